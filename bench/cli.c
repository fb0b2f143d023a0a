/* Argument parsing and checking against the command table, help texts. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/cli.h"
#include "tinycl/tinycl.h"

static int flag_index(const cli_cmd *cmd, const char *name, size_t len)
{
    for (int i = 0; i < CLI_MAX_FLAGS && cmd->flags[i].name; i++)
        if (strlen(cmd->flags[i].name) == len && strncmp(cmd->flags[i].name, name, len) == 0) return i;
    return -1;
}

const char *cli_get(const cli_args *a, const char *flag)
{
    int i = flag_index(a->cmd, flag, strlen(flag));
    return i >= 0 ? a->value[i] : NULL;
}

long long cli_int(const cli_args *a, const char *flag, long long dflt)
{
    const char *v = cli_get(a, flag);
    return v ? strtoll(v, NULL, 10) : dflt;
}

uint64_t cli_seed(const cli_args *a, const char *flag, uint64_t dflt)
{
    const char *v = cli_get(a, flag);
    return v ? strtoull(v, NULL, 10) : dflt;
}

double cli_ms(const cli_args *a, const char *flag, double dflt)
{
    const char *v = cli_get(a, flag);
    return v ? strtod(v, NULL) : dflt;
}

int cli_misuse(const cli_args *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tinycl %s: ", a->cmd->name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'tinycl help %s')\n", a->cmd->name);
    va_end(ap);
    return 2;
}

const char *cli_device_id(int index, char *buf, size_t n)
{
    if (index == 0)
        snprintf(buf, n, "ref");
    else if (index == CLI_OPENBLAS)
        snprintf(buf, n, "openblas");
    else
        snprintf(buf, n, "cl:%d", index - 1);
    return buf;
}

const char *cli_device_spec(int index, char *buf, size_t n)
{
    if (index == CLI_OPENBLAS)
        snprintf(buf, n, "openblas");
    else
        snprintf(buf, n, "%d", index);
    return buf;
}

tc_status cli_device_info(int index, tc_device_info *info)
{
    if (index != CLI_OPENBLAS) return tc_device_get(index, info);
    tc_ctx *ctx;
    tc_status s = tc_ctx_create("openblas", 0, &ctx);
    if (s == TC_OK) *info = *tc_ctx_device(ctx);
    tc_ctx_free(ctx);
    return s;
}

/* 1 when path can be created or replaced. */
static int writable(const char *path, const char **why)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        *why = S_ISDIR(st.st_mode) ? "is a directory" : "is not writable";
        return !S_ISDIR(st.st_mode) && access(path, W_OK) == 0;
    }
    if (errno != ENOENT) {
        *why = strerror(errno);
        return 0;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    *why = "is in a directory that does not exist or cannot be written";
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(dir, W_OK | X_OK) == 0;
}

static int parse_ll(const char *s, long long *v)
{
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return *s && !*end && errno == 0;
}

static int choice_ok(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        size_t len = strcspn(p, "|");
        if (len == n && strncmp(p, v, n) == 0) return 1;
        p += len + (p[len] == '|');
    }
    return 0;
}

/* Resolves a comma list of device selections into a->devices (duplicates dropped). */
int cli_resolve_devices(cli_args *a, const char *list, const char *source)
{
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf) return cli_misuse(a, "%s is too long", source);
    a->device_source = source;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int idx, dup = 0;
        if (strcasecmp(tok, "openblas") == 0)
            idx = CLI_OPENBLAS;
        else if (tc_device_find(tok, &idx) != TC_OK)
            return cli_misuse(a, "%s: %s", source, tc_last_error(NULL));
        for (int i = 0; i < a->ndevices; i++) dup |= a->devices[i] == idx;
        if (!dup && a->ndevices < CLI_MAX_DEVICES) a->devices[a->ndevices++] = idx;
    }
    return a->ndevices ? 0 : cli_misuse(a, "%s names no device", source);
}

static int check_value(cli_args *a, const cli_flag *f, const char *v)
{
    long long n;
    const char *why = "";
    char *end;
    switch (f->kind) {
    case CLI_INT:
        if (!parse_ll(v, &n) || n < f->min || n > f->max)
            return cli_misuse(a, "%s takes a whole number from %lld to %lld, not '%s'", f->name, f->min, f->max, v);
        return 0;
    case CLI_SEED:
        errno = 0;
        if (!*v || *v == '-' || *v == '+' || (strtoull(v, &end, 10), *end) || errno)
            return cli_misuse(a, "%s takes a non-negative whole number below 2^64, not '%s'", f->name, v);
        return 0;
    case CLI_MS: {
        double d = strtod(v, &end);
        if (!*v || *end || !isfinite(d) || d <= 0) return cli_misuse(a, "%s takes a positive number, not '%s'", f->name, v);
        return 0;
    }
    case CLI_CHOICE:
        return choice_ok(f->choices, v) ? 0 : cli_misuse(a, "%s takes %s, not '%s'", f->name, f->choices, v);
    case CLI_OUTFILE:
        return writable(v, &why) ? 0 : cli_misuse(a, "%s %s: the path %s", f->name, v, why);
    case CLI_INFILE: {
        struct stat st;
        if (stat(v, &st) != 0 || !S_ISREG(st.st_mode) || access(v, R_OK) != 0)
            return cli_misuse(a, "%s %s: no readable file there", f->name, v);
        return 0;
    }
    case CLI_DIR: {
        struct stat st;
        if (stat(v, &st) != 0 || !S_ISDIR(st.st_mode)) return cli_misuse(a, "%s %s: no such directory", f->name, v);
        return 0;
    }
    case CLI_DEVICES: return cli_resolve_devices(a, v, f->name);
    default: return 0;
    }
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_help(cmd);
            return -1;
        }
    int nop = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0) {
            if (nop == cmd->noperands)
                return cli_misuse(a, "unexpected argument '%s'", arg);
            a->operand[nop++] = arg;
            continue;
        }
        const char *eq = strchr(arg, '=');
        int fi = flag_index(cmd, arg, eq ? (size_t)(eq - arg) : strlen(arg));
        if (fi < 0) return cli_misuse(a, "unknown option '%.*s'", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
        const cli_flag *f = &cmd->flags[fi];
        if (a->value[fi]) return cli_misuse(a, "%s given twice", f->name);
        if (f->kind == CLI_BOOL) {
            if (eq) return cli_misuse(a, "%s takes no value", f->name);
            a->value[fi] = "";
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) return cli_misuse(a, "%s needs a value (%s)", f->name, f->meta);
        a->value[fi] = v;
        if (check_value(a, f, v)) return 2;
    }
    if (nop < cmd->noperands) return cli_misuse(a, "missing %s", cmd->operands);
    if (flag_index(cmd, "--device", 8) >= 0 && !a->device_source) {
        const char *env = getenv("TINYCL_DEVICE");
        if (env && *env) {
            if (cli_resolve_devices(a, env, "TINYCL_DEVICE")) return 2;
        } else {
            for (int i = 0; i < tc_device_count() && i < CLI_MAX_DEVICES; i++) a->devices[a->ndevices++] = i;
        }
    }
    return 0;
}

static void print_flag(const cli_flag *f)
{
    char head[64];
    snprintf(head, sizeof head, "%s%s%s", f->name, f->kind == CLI_BOOL ? "" : " ", f->kind == CLI_BOOL ? "" : f->meta);
    printf("  %-22s %s", head, f->help);
    if (f->kind == CLI_CHOICE && strcmp(f->meta, f->choices) != 0) printf(" (%s)", f->choices);
    printf("\n");
}

void cli_help(const cli_cmd *cmd)
{
    printf("usage: tinycl %s%s%s%s\n\n%s\n", cmd->name, cmd->noperands ? " " : "", cmd->operands,
           cmd->flags[0].name ? " [options]" : "", cmd->summary);
    if (cmd->details) printf("\n%s\n", cmd->details);
    if (cmd->flags[0].name) printf("\noptions:\n");
    for (int i = 0; i < CLI_MAX_FLAGS && cmd->flags[i].name; i++) print_flag(&cmd->flags[i]);
    printf("  %-22s %s\n", "--help", "this help");
}

void cli_usage(FILE *f)
{
    fprintf(f, "usage: tinycl <command> [options]\n\ncommands:\n");
    for (int i = 0; i < cli_ncommands; i++) {
        char head[64];
        snprintf(head, sizeof head, "%s %s", cli_commands[i].name, cli_commands[i].operands);
        fprintf(f, "  %-14s %s\n", head, cli_commands[i].summary);
    }
    fprintf(f, "\n'tinycl help CMD' or 'tinycl CMD --help' describes a command; 'tinycl --version' prints the "
               "version.\nDevices: ref, openblas, cl:N, N, cpu, gpu or a name substring; TINYCL_DEVICE sets the default "
               "list.\n");
}
