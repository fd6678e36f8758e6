/* Error codes of cdpd: one X-macro table gives each code its HTTP status and message.
 * Functions that can fail return an int: 0 on success, a negative CDP_E_* on failure. */
#ifndef CDP_CORE_ERR_H
#define CDP_CORE_ERR_H

#define CDP_ERRORS(X)                                                                              \
    X(OK, 0, 200, "ok")                                                                            \
    X(NOMEM, -1, 500, "out of memory")                                                             \
    X(INTERNAL, -2, 500, "internal error")                                                         \
    X(STORE, -3, 500, "storage error")                                                             \
    X(BAD_JSON, -4, 422, "malformed JSON")                                                         \
    X(INVALID, -5, 422, "invalid request")                                                         \
    X(TOO_LARGE, -6, 413, "request body too large")                                                \
    X(NOT_FOUND, -7, 404, "not found")                                                             \
    X(METHOD, -8, 405, "method not allowed")                                                       \
    X(UNAUTHORIZED, -9, 401, "unauthorized")                                                       \
    X(FORBIDDEN, -10, 403, "forbidden")                                                            \
    X(CONFLICT, -11, 409, "conflict")                                                              \
    X(THROTTLED, -12, 429, "too many requests")                                                    \
    X(UNAVAILABLE, -13, 503, "service unavailable")                                                \
    X(IO, -14, 500, "input/output error")                                                          \
    X(CONFIG, -15, 500, "configuration error")                                                     \
    X(UNSUPPORTED, -16, 501, "not supported by this backend")                                      \
    X(BUSY, -17, 503, "busy: another process holds it; try again")

enum cdp_err {
#define CDP_ERR_ENUM(name, code, status, msg) CDP_E_##name = (code),
    CDP_ERRORS(CDP_ERR_ENUM)
#undef CDP_ERR_ENUM
};

/* Static message and HTTP status of a code; unknown codes map to CDP_E_INTERNAL's. */
const char *cdp_err_str(int err);
int cdp_err_status(int err);

#endif
