/* Leveled logging to stderr, one line per message, safe from any thread. */
#ifndef CDP_CORE_LOG_H
#define CDP_CORE_LOG_H

enum cdp_log_level { CDP_LOG_DEBUG, CDP_LOG_INFO, CDP_LOG_WARN, CDP_LOG_ERROR };

extern enum cdp_log_level cdp_log_min;

void cdp_log(enum cdp_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses "debug|info|warn|error"; -1 if unknown. */
int cdp_log_parse_level(const char *s);

#define cdp_debug(...) cdp_log(CDP_LOG_DEBUG, __VA_ARGS__)
#define cdp_info(...)  cdp_log(CDP_LOG_INFO, __VA_ARGS__)
#define cdp_warn(...)  cdp_log(CDP_LOG_WARN, __VA_ARGS__)
#define cdp_error(...) cdp_log(CDP_LOG_ERROR, __VA_ARGS__)

#endif
