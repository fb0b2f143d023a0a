/* The meta object: schema version, tinycl version and commit, the command, the
 * date, the host, each device with its drivers, and the settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench/meta.h"
#include "tinycl/tinycl.h"

void meta_json_string(FILE *out, const char *v)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* The value of "key<sep>value" in a text file (first match), trimmed of quotes. */
static void file_value(const char *path, const char *key, char sep, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[512];
    const size_t kl = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, kl) != 0) continue;
        char *v = strchr(line + kl, sep);
        if (!v) continue;
        v += 1 + strspn(v + 1, " \t\"");
        v[strcspn(v, "\"\n")] = '\0';
        snprintf(buf, n, "%s", v);
        break;
    }
    fclose(f);
}

static void kv(FILE *out, const char *key, const char *v, int last)
{
    fprintf(out, "\"%s\": ", key);
    meta_json_string(out, v);
    fprintf(out, last ? "" : ", ");
}

void meta_write(FILE *out, const res_set *s, const cli_args *a)
{
    char buf[1024], os[1024];
    fprintf(out, "{\"schema_version\": %d, ", RES_SCHEMA_VERSION);
    kv(out, "tinycl_version", tc_version(), 0);
    kv(out, "git_commit", tc_git_commit(), 0);
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < a->argc && used < sizeof buf; i++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", i ? " " : "", i ? a->argv[i] : "tinycl");
    kv(out, "command", buf, 0);
    time_t now = time(NULL);
    struct tm tm;
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    kv(out, "date", buf, 0);

    fprintf(out, "\"host\": {");
    file_value("/proc/cpuinfo", "model name", ':', buf, sizeof buf);
    kv(out, "cpu_model", buf[0] ? buf : "unknown", 0);
    fprintf(out, "\"cores\": %ld, ", sysconf(_SC_NPROCESSORS_ONLN));
    struct utsname u;
    char pretty[256];
    file_value("/etc/os-release", "PRETTY_NAME", '=', pretty, sizeof pretty);
    if (uname(&u) == 0)
        snprintf(os, sizeof os, "%s %s %s%s%s%s", u.sysname, u.release, u.machine, pretty[0] ? " (" : "", pretty,
                 pretty[0] ? ")" : "");
    else
        snprintf(os, sizeof os, "%s", pretty[0] ? pretty : "unknown");
    kv(out, "os", os, 1);
    fprintf(out, "}, \"devices\": [");
    for (int i = 0; i < a->ndevices; i++) {
        tc_device_info d;
        if (cli_device_info(a->devices[i], &d) != TC_OK) continue;
        fprintf(out, "%s{", i ? ", " : "");
        kv(out, "id", cli_device_id(a->devices[i], buf, sizeof buf), 0);
        kv(out, "name", d.name, 0);
        kv(out, "vendor", d.vendor, 0);
        kv(out, "platform", d.platform, 0);
        kv(out, "opencl_version", d.version, 0);
        kv(out, "driver_version", d.driver, 1);
        fprintf(out, "}");
    }
    fprintf(out, "], \"settings\": {");
    if (s->reps) fprintf(out, "\"reps\": %d, ", s->reps);
    if (s->has_budget) fprintf(out, "\"budget_ms\": %g, ", s->budget_ms);
    if (s->has_seed) fprintf(out, "\"seed\": %llu, ", (unsigned long long)s->seed);
    if (a->device_source) kv(out, "devices_from", a->device_source, 0);
    const char *params = getenv("TINYCL_PARAMS"); /* kernel parameter overrides of every context */
    if (params && *params) kv(out, "kernel_params", params, 0);
    /* every flag given that changes what is measured (not where the output goes) */
    fprintf(out, "\"overrides\": {");
    int n = 0;
    for (int i = 0; i < CLI_MAX_FLAGS && a->cmd->flags[i].name; i++) {
        const char *name = a->cmd->flags[i].name;
        if (!a->value[i] || a->cmd->flags[i].kind == CLI_OUTFILE || a->cmd->flags[i].kind == CLI_BOOL ||
            strcmp(name, "--format") == 0 || strcmp(name, "--device") == 0)
            continue;
        fprintf(out, "%s", n++ ? ", " : "");
        kv(out, name + 2, a->value[i], 1);
    }
    fprintf(out, "}}}");
}
