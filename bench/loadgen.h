/* Timing as MLPerf's LoadGen does it, for one process: every entry of a
 * comparison is warmed up, then the entries run in rounds, one query each per
 * round (the order rotating and alternating from round to round, so that slow
 * drifts of a shared machine's load fall on all of them alike), until both a
 * minimum count of rounds and a minimum duration are reached (or a hard cap).
 * Statistics: median, p90 and p99 (nearest rank), the mean with a 95% confidence
 * interval from Student's t, and the ratio of two entries as the geometric mean
 * of their per-round ratios with its own t interval (on the logarithms). */
#ifndef TINYCL_LOADGEN_H
#define TINYCL_LOADGEN_H

#include "tinycl/status.h"

typedef struct {
    int warmup;     /* untimed queries per entry first */
    int min_count;  /* rounds at least */
    double min_ms;  /* and wall time at least */
    int max_count;  /* rounds at most (0: no cap) */
    double max_ms;  /* wall time at most, once min_count is reached (0: no cap) */
} lg_settings;

typedef struct lg_entry lg_entry;
/* One query of an entry: *ms is its time (the query may time a part of itself;
 * when it leaves *ms negative the runner's wall time of the call counts). */
typedef tc_status (*lg_query)(lg_entry *e, double *ms);

struct lg_entry {
    lg_query query;
    void *user;
    int active;   /* 0: left out (not applicable, or failed: see status) */
    tc_status status;
    double *ms;   /* query times, one per round, in round order (owned) */
    int n, cap;
};

typedef struct {
    int n;
    double median, p90, p99, mean, ci_lo, ci_hi, min, max;
} lg_stats;

typedef struct {
    int n;          /* paired rounds; 0 when not measured */
    double value;   /* geometric mean of base / entry over the rounds */
    double ci_lo, ci_hi; /* 95% (equal to value when n < 2) */
} lg_ratio;

/* Called after each round with the rounds done so far and the elapsed ms. */
typedef void (*lg_progress)(void *user, int rounds, double elapsed_ms);

/* Runs the active entries interleaved per s. A query that fails deactivates its
 * entry (its status says why); the others go on. Returns TC_ERR_OUT_OF_MEMORY
 * when the sample arrays cannot grow, else TC_OK. */
tc_status lg_run(lg_entry *e, int k, const lg_settings *s, lg_progress progress, void *user);
void lg_entry_free(lg_entry *e);

/* Statistics of n >= 1 times (all zeros for n = 0). */
lg_stats lg_summarize(const double *ms, int n);
/* base[i] / x[i] over the first n rounds both have (a speedup of x over base). */
lg_ratio lg_ratio_of(const double *base, const double *x, int n);
/* The 97.5% quantile of Student's t with df degrees of freedom (df >= 1). */
double lg_t975(int df);
/* Nearest-rank percentile p in (0, 100] of n >= 1 sorted values. */
double lg_percentile(const double *sorted, int n, double p);

#endif
