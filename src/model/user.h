/* Management users as Tracardi keeps them ({id, email, full_name, roles[], disabled,
 * expiration_timestamp, preference}) and the checks of what a request may set on one. Pure
 * logic: no store, no clock of its own. The password hash is never part of the document. */
#ifndef CDP_MODEL_USER_H
#define CDP_MODEL_USER_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The role names; bit i of a role mask is cdp_user_roles[i] (api/api.h's CDP_ROLE_* agree). */
extern const char *const cdp_user_roles[];
#define CDP_USER_NROLES       4
#define CDP_USER_ROLE_ADMIN   1u /* bit of "admin" */
#define CDP_USER_PASSWORD_MIN 8
#define CDP_USER_PASSWORD_MAX 255 /* the login form keeps 255 bytes */

/* The mask of the known role names in a JSON array (unknown names add nothing). */
unsigned cdp_user_roles_mask(const cJSON *roles);
/* Whether s is an e-mail address as accounts use them: local@domain.tld, printable ASCII, no
 * spaces, at most 254 bytes. */
bool cdp_user_email_ok(const char *s);
/* Why password is too weak (a static message), or NULL when it will do: 8 to 255 bytes, not one
 * character repeated, not the e-mail address (email may be NULL). */
const char *cdp_user_password_problem(const char *password, const char *email);

/* Checks a body for POST /user (create: email, password and roles required) or POST /user/{id}
 * (every field optional). Returns a new array of FastAPI-style problems
 * ({loc: ["body", field], msg, type}), empty when the body is fine; NULL on OOM. */
cJSON *cdp_user_check(const cJSON *body, bool create);
/* Copies the fields a checked body sets (email lower-cased, full_name, roles, disabled,
 * expiration_timestamp, preference) onto doc; the password is the caller's. */
void cdp_user_apply(cJSON *doc, const cJSON *body);
/* A new user document with Tracardi's defaults for what body leaves out. */
cJSON *cdp_user_new_doc(const char *id, const cJSON *body);

/* Why the user of doc may not act at now (seconds since the epoch), or NULL: disabled, or an
 * expiration_timestamp (seconds) that has passed. */
const char *cdp_user_refusal(const cJSON *doc, int64_t now);
/* Whether doc is an administrator who may act at now. */
bool cdp_user_is_active_admin(const cJSON *doc, int64_t now);

#endif
