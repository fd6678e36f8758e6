/* GET /openapi.json: an OpenAPI 3.0 document of both listeners. What the routers know is taken
 * from their tables (src/api/api.c, src/collect/routes.c) at each request: paths, methods, path
 * parameters, whether a bearer token is needed and which roles may call, so no route can be
 * missing from it. What a table cannot say comes from the one below, keyed "METHOD /pattern":
 * a summary, the query parameters, the request body and the answer. A route without a row still
 * appears, with an empty summary; tests/unit/test_openapi.c and tests/integration/test_openapi.py
 * fail on it.
 *
 * Schemas here are JSON written with ' for " so they stay readable in C. */
#include "api/api.h"
#include "collect/collect.h"
#include "core/config.h"
#include "core/json.h"
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CDPD_VERSION
#define CDPD_VERSION "0.0.0"
#endif

/* One route's description.
 * query: names of parameters in components.parameters, space separated.
 * body:  NULL (none), a schema name, an inline schema ("{...}"), "form:<schema name>"
 *        (application/x-www-form-urlencoded), or "ndjson" (bulk documents).
 * reply: NULL (any JSON), a schema name, "[<schema name>]" (a page {total, result: [...]}),
 *        an inline schema, or "text" (text/plain). */
struct op_doc {
    const char *route;
    const char *summary;
    const char *query;
    const char *body;
    const char *reply;
};

static const struct op_doc op_docs[] = {
    /* both listeners */
    {"GET /", "Version of cdpd and which listener answers", NULL, NULL, "Version"},
    {"GET /healthcheck", "Health check", NULL, NULL, "Health"},
    /* collector */
    {"POST /track", "Collect a Tracardi TrackerPayload (events of one session)", "profile_less",
     "TrackerPayload", "TrackResponse"},
    {"GET /collect/{type}/{source}",
     "Collect one webhook event from the query string, profile-less", NULL, NULL, "TrackResponse"},
    {"POST /collect/{type}/{source}",
     "Collect one webhook event from a JSON, form or raw body, profile-less", NULL, "any",
     "TrackResponse"},
    {"GET /collect/{type}/{source}/{session}",
     "Collect one webhook event from the query string, in a session", NULL, NULL, "TrackResponse"},
    {"POST /collect/{type}/{source}/{session}",
     "Collect one webhook event from a JSON, form or raw body, in a session", NULL, "any",
     "TrackResponse"},
    {"POST /customer/consent", "Grant or withdraw consents of a profile (no token, as Tracardi)",
     "all", "ConsentRequest", "ConsentResponse"},
    /* API description and observability */
    {"GET /openapi.json", "This OpenAPI document of both listeners", NULL, NULL,
     "{'type':'object'}"},
    {"GET /metrics", "Metrics in the Prometheus text exposition format", NULL, NULL, "text"},
    {"GET /storage/backlog",
     "Scale-out: how far storage workers are behind on each context's change stream", NULL, NULL,
     "{'type':'object'}"},
    /* users */
    {"GET /install", "Whether any user exists yet (the GUI's first screen)", NULL, NULL,
     "{'type':'object','properties':{'users':{'type':'boolean'}}}"},
    {"POST /install", "Create the first administrator; 409 once any user exists", NULL,
     "{'type':'object','required':['email','password'],'properties':{'email':{'type':'string'},"
     "'password':{'type':'string'},'full_name':{'type':'string'}}}",
     "User"},
    {"POST /user/token", "Log in: a bearer token for the form's username and password", NULL,
     "form:LoginForm", "Token"},
    {"POST /user/logout", "End this token", NULL, NULL, "{'type':'object'}"},
    {"POST /user", "Create a user", NULL, "UserCreate", "User"},
    {"GET /user/preferences", "The caller's preferences", NULL, NULL, "Preferences"},
    {"GET /user/preference/{key}", "One preference of the caller", NULL, NULL, "{}"},
    {"POST /user/preference/{key}", "Set one preference of the caller (any JSON value)", NULL,
     "any", "Preferences"},
    {"DELETE /user/preference/{key}", "Delete one preference of the caller", NULL, NULL,
     "Preferences"},
    {"GET /user/{id}", "A user, by id or e-mail", NULL, NULL, "User"},
    {"POST /user/{id}", "Update a user (a new password ends their tokens)", NULL, "UserUpdate",
     "User"},
    {"DELETE /user/{id}", "Delete a user and end their tokens", NULL, NULL, "Deleted"},
    {"GET /users/{start}/{limit}", "A page of users, by e-mail", NULL, NULL, "[User]"},
    {"GET /user-account", "The caller's own user", NULL, NULL, "User"},
    {"POST /user-account", "Change the caller's name, preferences or password", NULL,
     "AccountUpdate", "User"},
    {"GET /audit", "The audit log, newest first", "start limit user kind since", NULL,
     "[AuditRecord]"},
    /* event sources */
    {"POST /event-source", "Create or replace an event source", NULL, "EventSource", "EventSource"},
    {"GET /event-source/{id}", "An event source", NULL, NULL, "EventSource"},
    {"DELETE /event-source/{id}", "Delete an event source", NULL, NULL, "Deleted"},
    {"GET /event-sources", "A page of event sources", "start limit sort", NULL, "[EventSource]"},
    /* a person's data */
    {"GET /profile/{id}", "A profile, by its id or any of its ids", NULL, NULL, "Profile"},
    {"GET /session/{id}", "A session", NULL, NULL, "Session"},
    {"GET /event/{id}", "An event", NULL, NULL, "Event"},
    {"GET /events/profile/{id}", "A page of a profile's events, newest first", "start limit", NULL,
     "[Event]"},
    {"DELETE /profile/{id}", "Erase a person: profile, ids, sessions and events", NULL, NULL,
     "Erasure"},
    {"GET /profile/{id}/export", "Export everything held about a person", NULL, NULL,
     "ProfileExport"},
    {"POST /profiles/merge", "Merge profiles of one person by hand", NULL, "MergeRequest",
     "MergeRecord"},
    {"GET /merges", "A page of merge records, newest first", "profile start limit", NULL,
     "[MergeRecord]"},
    {"GET /merge/{id}", "A merge record with the profiles as they were", NULL, NULL, "MergeRecord"},
    {"POST /merge/{id}/undo", "Undo a merge", NULL, NULL, "MergeRecord"},
    /* segments, consents */
    {"POST /segment", "Create or replace a segment", NULL, "Segment", "Segment"},
    {"GET /segment/{id}", "A segment with the count of its profiles", NULL, NULL, "Segment"},
    {"DELETE /segment/{id}", "Delete a segment", NULL, NULL, "Deleted"},
    {"GET /segments", "A page of segments, each with its count", "start limit sort", NULL,
     "[Segment]"},
    {"POST /segments/run",
     "Run batch segmentation now: every enabled segment over every stored profile; its summary",
     NULL, NULL, "{'type':'object'}"},
    {"POST /consent/type", "Create or replace a consent type", NULL, "ConsentType", "ConsentType"},
    {"GET /consent/type/{id}", "A consent type", NULL, NULL, "ConsentType"},
    {"DELETE /consent/type/{id}", "Delete a consent type", NULL, NULL, "Deleted"},
    {"GET /consents/type", "A page of consent types", "start limit sort", NULL, "[ConsentType]"},
    /* event processing */
    {"POST /event-validator", "Create or replace an event validator (a JSON Schema)", NULL,
     "EventValidator", "EventValidator"},
    {"GET /event-validator/{id}", "An event validator", NULL, NULL, "EventValidator"},
    {"DELETE /event-validator/{id}", "Delete an event validator", NULL, NULL, "Deleted"},
    {"GET /event-validators", "A page of event validators", "start limit sort", NULL,
     "[EventValidator]"},
    {"POST /event-to-profile", "Create or replace an event-to-profile mapping", NULL,
     "EventToProfile", "EventToProfile"},
    {"GET /event-to-profile/{id}", "An event-to-profile mapping", NULL, NULL, "EventToProfile"},
    {"DELETE /event-to-profile/{id}", "Delete an event-to-profile mapping", NULL, NULL, "Deleted"},
    {"GET /event-to-profiles", "A page of event-to-profile mappings", "start limit sort", NULL,
     "[EventToProfile]"},
    {"POST /event-reshape-schema", "Create or replace an event reshaping schema", NULL,
     "ReshapeSchema", "ReshapeSchema"},
    {"GET /event-reshape-schema/{id}", "An event reshaping schema", NULL, NULL, "ReshapeSchema"},
    {"DELETE /event-reshape-schema/{id}", "Delete an event reshaping schema", NULL, NULL,
     "Deleted"},
    {"GET /event-reshape-schemas", "A page of event reshaping schemas", "start limit sort", NULL,
     "[ReshapeSchema]"},
    {"POST /identification/point", "Create or replace an identification point", NULL,
     "IdentificationPoint", "IdentificationPoint"},
    {"GET /identification/point/{id}", "An identification point", NULL, NULL,
     "IdentificationPoint"},
    {"DELETE /identification/point/{id}", "Delete an identification point", NULL, NULL, "Deleted"},
    {"GET /identification/points", "A page of identification points", "start limit sort", NULL,
     "[IdentificationPoint]"},
    {"GET /event-types/build-in/by_type", "Built-in event types, grouped", NULL, NULL,
     "EventTypesGrouped"},
    {"GET /event-type/build-in/{id}", "One built-in event type", NULL, NULL, "EventType"},
    /* flows and rules */
    {"POST /flow/draft", "Save a flow as draft", NULL, "Flow", "Flow"},
    {"GET /flow/draft/{id}", "A flow's draft", NULL, NULL, "Flow"},
    {"POST /flow/production", "Deploy a flow (saved as draft and production copy)", NULL, "Flow",
     "Flow"},
    {"GET /flow/production/{id}", "A flow's deployed copy", NULL, NULL, "Flow"},
    {"GET /flows", "A page of flows, without their graphs", "start limit sort", NULL, "[Flow]"},
    {"DELETE /flow/{id}", "Delete a flow, draft and production copy", NULL, NULL, "Deleted"},
    {"POST /flow/debug", "Run a flow without storing anything", "event_id", "FlowDebugRequest",
     "FlowDebugResult"},
    {"GET /flow/action/plugins", "The plugin palette", "query", NULL, "Plugins"},
    {"POST /rule", "Create or replace a rule (routes events into a flow)", NULL, "Rule", "Rule"},
    {"GET /rule/{id}", "A rule", NULL, NULL, "Rule"},
    {"DELETE /rule/{id}", "Delete a rule", NULL, NULL, "Deleted"},
    {"GET /rules", "A page of rules", "start limit sort", NULL, "[Rule]"},
    {"GET /rules/by_flow/{id}", "The rules of a flow", "start limit sort", NULL, "[Rule]"},
    {"GET /rules/by_event_type/{type}", "The rules of an event type", "start limit sort", NULL,
     "[Rule]"},
    /* staging to production (deploy.c) */
    {"GET /production/deploy",
     "Replace production's configuration with staging's (?dry_run=true: only say what would "
     "change; ?allow_empty=true: deploy an empty staging)",
     NULL, NULL, NULL},
    {"GET /production/dry-run", "What deploying staging's configuration would change", NULL, NULL,
     NULL},
    /* staging and production */
    {"GET /production/deploy", "Deploy staging's configuration to production (or report it)",
     "dry_run allow_empty", NULL, "DeployReport"},
    {"GET /production/dry-run", "Report what deploying staging to production would change",
     "allow_empty", NULL, "DeployReport"},
    /* imports and the configuration bundle */
    {"POST /profiles/import", "Import profiles (NDJSON or a JSON array)", NULL, "ndjson",
     "ImportResult"},
    {"POST /sessions/import", "Import sessions (NDJSON or a JSON array)", NULL, "ndjson",
     "ImportResult"},
    {"POST /events/import", "Import events (NDJSON or a JSON array)", NULL, "ndjson",
     "ImportResult"},
    {"GET /config/export", "Export every config entity as one bundle", NULL, NULL, "ConfigBundle"},
    {"POST /config/import", "Import a config bundle: all of it or nothing", "mode", "ConfigBundle",
     "ConfigImportResult"},
    /* resources, destinations, settings */
    {"POST /resource", "Create or replace a resource (credentials sealed at rest)", NULL,
     "Resource", "Resource"},
    {"GET /resource/{id}", "A resource, credentials in clear for admins only", NULL, NULL,
     "Resource"},
    {"DELETE /resource/{id}", "Delete a resource no destination uses", NULL, NULL, "Deleted"},
    {"GET /resource/{id}/enabled/on", "Enable a resource", NULL, NULL, "Resource"},
    {"GET /resource/{id}/enabled/off", "Disable a resource", NULL, NULL, "Resource"},
    {"GET /resources", "A page of resources", "start limit sort", NULL, "[Resource]"},
    {"GET /resources/type/{how}", "The resource types offered (how: name or configuration)", NULL,
     NULL,
     "{'type':'object','properties':{'total':{'type':'integer'},'result':{'type':"
     "'object'}}}"},
    {"POST /destination", "Create or replace a destination", NULL, "Destination", "Destination"},
    {"GET /destination/{id}", "A destination", NULL, NULL, "Destination"},
    {"DELETE /destination/{id}", "Delete a destination", NULL, NULL, "Deleted"},
    {"GET /destinations", "A page of destinations", "start limit sort", NULL, "[Destination]"},
    {"POST /setting", "Create or replace a setting", NULL, "Setting", "Setting"},
    {"GET /setting/{id}", "A setting", NULL, NULL, "Setting"},
    {"DELETE /setting/{id}", "Delete a setting", NULL, NULL, "Deleted"},
    {"GET /settings", "A page of settings", "start limit sort", NULL, "[Setting]"},
    {"GET /settings/{type}", "A page of the settings of one type", "start limit sort", NULL,
     "[Setting]"},

    /* searches and the dashboard's counters (search.c, dashboard.c) */
    {"GET /profile/count", "How many profiles (by metadata.time.update within ?from= ?to=)",
     "from to", NULL, "Count"},
    {"GET /event/count", "How many events (within ?from= ?to=)", "from to", NULL, "Count"},
    {"GET /session/count", "How many sessions (within ?from= ?to=)", "from to", NULL, "Count"},
    {"GET /events/by_type", "Events by type, most first", "from to", NULL, "ValueCounts"},
    {"GET /events/by_source", "Events by source (named), most first", "from to", NULL,
     "ValueCounts"},
    {"GET /events/by_tag", "Events by tag, most first", "from to", NULL, "ValueCounts"},
    {"GET /events/by_status", "Events by status, most first", "from to", NULL, "ValueCounts"},
    {"GET /events/by_channel", "Events by channel, most first", "from to", NULL, "ValueCounts"},
    {"GET /events/by_os_name", "Events by operating system, most first", "from to", NULL,
     "ValueCounts"},
    {"GET /events/by_device_geo", "Events by country, most first", "from to", NULL, "ValueCounts"},
    {"GET /sessions/count/by_os_name", "Sessions by operating system, most first", "from to", NULL,
     "ValueCounts"},
    {"GET /sessions/count/by_device_geo", "Sessions by country, most first", "from to", NULL,
     "ValueCounts"},
    {"GET /sessions/count/by_channel", "Sessions by channel, most first", "from to", NULL,
     "ValueCounts"},
    {"GET /sessions/count/by_app", "Sessions by app, most first", "from to", NULL, "ValueCounts"},
    {"GET /sessions/count/by_resolution", "Sessions by screen resolution, most first", "from to",
     NULL, "ValueCounts"},
    {"POST /{index}/select", "Search profiles, sessions or events (index) with a condition",
     "query_type", "SearchRequest", "[SearchResult]"},
    {"POST /{index}/select/range", "Search within a time range, newest first", "query_type",
     "RangeRequest", "[SearchResult]"},
    {"POST /{index}/select/range/page/{page}", "Page {page} (25 each) of a time-range search",
     "query_type", "RangeRequest", "[SearchResult]"},
    {"POST /{index}/select/histogram", "Counts over time in buckets, or per value of group_by",
     "query_type group_by interval", "RangeRequest", "Histogram"},
};

/* Query parameters the table above names. */
static const struct {
    const char *name, *json;
} parameters[] = {
    {"start", "{'name':'start','in':'query','description':'First item of the page (default 0)',"
              "'schema':{'type':'integer','minimum':0,'default':0}}"},
    {"limit", "{'name':'limit','in':'query','description':'Items in the page (default 100, at "
              "most 1000)','schema':{'type':'integer','minimum':1,'maximum':1000,'default':100}}"},
    {"sort", "{'name':'sort','in':'query','description':'id, name, enabled or a field of the "
             "kind; a leading - reverses','schema':{'type':'string'}}"},
    {"profile_less", "{'name':'profile_less','in':'query','description':'true: no profile is "
                     "loaded or made','schema':{'type':'boolean','default':false}}"},
    {"all", "{'name':'all','in':'query','description':'true: grant every enabled consent type',"
            "'schema':{'type':'boolean','default':false}}"},
    {"user", "{'name':'user','in':'query','description':'Id or e-mail of the acting user',"
             "'schema':{'type':'string'}}"},
    {"kind", "{'name':'kind','in':'query','description':'Entity kind','schema':{'type':'string'}}"},
    {"since", "{'name':'since','in':'query','description':'Seconds since 1970 or an ISO 8601 "
              "time','schema':{'type':'string'}}"},
    {"profile", "{'name':'profile','in':'query','description':'Only the merges this person (any "
                "of their ids) took part in','schema':{'type':'string'}}"},
    {"event_id", "{'name':'event_id','in':'query','description':'Run the flow on this stored "
                 "event with its profile and session','schema':{'type':'string'}}"},
    {"query", "{'name':'query','in':'query','description':'Only plugins whose name or group "
              "holds this text','schema':{'type':'string'}}"},
    {"dry_run", "{'name':'dry_run','in':'query','description':'true: only report what would "
                "change','schema':{'type':'boolean','default':false}}"},
    {"allow_empty", "{'name':'allow_empty','in':'query','description':'true: deploy a staging "
                    "without configuration anyway','schema':{'type':'boolean','default':false}}"},
    {"x-context", "{'name':'x-context','in':'header','description':'The data the request works "
                  "on','schema':{'type':'string','enum':['production','staging'],'default':"
                  "'production'}}"},
    {"mode", "{'name':'mode','in':'query','description':'merge keeps what the bundle does not "
             "name; replace deletes it','schema':{'type':'string','enum':['merge','replace'],"
             "'default':'merge'}}"},
    {"from", "{'name':'from','in':'query','description':'Only documents whose time is at or "
             "after this (seconds since 1970 or ISO 8601)','schema':{'type':'string'}}"},
    {"to", "{'name':'to','in':'query','description':'Only documents whose time is at or before "
           "this (seconds since 1970 or ISO 8601)','schema':{'type':'string'}}"},
    {"query_type", "{'name':'query_type','in':'query','description':'The language of where: "
                   "tql','schema':{'type':'string','enum':['tql'],'default':'tql'}}"},
    {"group_by", "{'name':'group_by','in':'query','description':'A field: counts per value of "
                 "it (the 5 values with most documents)','schema':{'type':'string'}}"},
    {"interval", "{'name':'interval','in':'query','description':'Bucket width, as 15m, 1h, 1d "
                 "(default: the range over 30)','schema':{'type':'string'}}"},
};

#define ANY_OBJ "{'type':'object','additionalProperties':true}"
#define ID_NAME                                                                                    \
    "{'oneOf':[{'type':'string'},{'type':'object','properties':{'id':{'type':'string'},'name':{"   \
    "'type':'string'}}}]}"
#define STRINGS "{'type':'array','items':{'type':'string'}}"
#define REF_ID  "{'type':'object','properties':{'id':{'type':'string'}}}"

/* The schemas the table names. Documents keep fields not listed (additionalProperties). */
static const struct {
    const char *name, *json;
} schemas[] = {
    {"Error", "{'type':'object','required':['detail'],'properties':{'detail':{'oneOf':[{'type':"
              "'string'},{'type':'array','items':{'$ref':'#/components/schemas/"
              "ValidationError'}}]}}}"},
    {"ValidationError", "{'type':'object','properties':{'loc':{'type':'array','items':{'oneOf':["
                        "{'type':'string'},{'type':'integer'}]}},'msg':{'type':'string'},'type':{"
                        "'type':'string'}}}"},
    {"Deleted", "{'type':'object','properties':{'deleted':{'type':'integer'}}}"},
    {"Version", "{'type':'object','properties':{'name':{'type':'string'},'version':{'type':"
                "'string'},'api':{'type':'string'},'listener':{'type':'string'}}}"},
    {"Health", "{'type':'object','properties':{'status':{'type':'string'},'listener':{'type':"
               "'string','enum':['collector','admin']}}}"},
    {"TrackerPayload",
     "{'type':'object','required':['source'],'properties':{'source':{'type':'object','required':["
     "'id'],'properties':{'id':{'type':'string'}}},'session':" REF_ID ",'profile':" REF_ID
     ",'context':" ANY_OBJ ",'properties':" ANY_OBJ ",'request':" ANY_OBJ ",'options':" ANY_OBJ
     ",'events':{'type':'array','items':{'$ref':'#/components/schemas/EventPayload'}}}}"},
    {"EventPayload",
     "{'type':'object','required':['type'],'properties':{'type':{'type':'string'},'id':{'type':"
     "'string'},'properties':" ANY_OBJ ",'context':" ANY_OBJ ",'options':" ANY_OBJ
     ",'tags':" STRINGS ",'time':" ANY_OBJ "}}"},
    {"TrackResponse",
     "{'type':'object','nullable':true,'description':'null when the payload had no events; 226 "
     "instead of 200 when errors is not empty','properties':{'task':{'type':'string'},'ux':{"
     "'type':'array','items':{'type':'object'}},'response':" ANY_OBJ ",'events':" STRINGS
     ",'profile':{'type':'object','properties':{'id':{'type':'string','nullable':true}}},"
     "'session':" REF_ID ",'errors':" STRINGS ",'warnings':" STRINGS "}}"},
    {"ConsentRequest",
     "{'type':'object','required':['source'],'properties':{'source':" REF_ID ",'session':" REF_ID
     ",'profile':" REF_ID ",'consents':{'type':'object','additionalProperties':{'type':'boolean'}"
     "},'all':{'type':'boolean'}}}"},
    {"ConsentResponse",
     "{'type':'object','properties':{'profile':" REF_ID ",'consents':" ANY_OBJ "}}"},
    {"LoginForm", "{'type':'object','required':['username','password'],'properties':{'username':{"
                  "'type':'string'},'password':{'type':'string','format':'password'}}}"},
    {"Token", "{'type':'object','properties':{'access_token':{'type':'string'},'token_type':{"
              "'type':'string','enum':['bearer']},'roles':" STRINGS ",'preference':" ANY_OBJ
              ",'expires_in':{'type':'integer','description':'idle seconds before it expires'}}}"},
    {"User", "{'type':'object','properties':{'id':{'type':'string'},'email':{'type':'string'},"
             "'full_name':{'type':'string'},'roles':{'type':'array','items':{'type':'string',"
             "'enum':['admin','developer','marketer','maintainer']}},'disabled':{'type':"
             "'boolean'},'expiration_timestamp':{'type':'number','nullable':true},'preference':"
             "" ANY_OBJ ",'expired':{'type':'boolean'}}}"},
    {"UserCreate", "{'allOf':[{'$ref':'#/components/schemas/UserUpdate'}],'required':['email',"
                   "'password','roles']}"},
    {"UserUpdate",
     "{'type':'object','properties':{'email':{'type':'string'},'password':{'type':"
     "'string','format':'password','minLength':8,'maxLength':255},'roles':{'type':"
     "'array','items':{'type':'string','enum':['admin','developer','marketer',"
     "'maintainer']}},'full_name':{'type':'string'},'disabled':{'type':'boolean'},"
     "'expiration_timestamp':{'type':'number','nullable':true},'preference':" ANY_OBJ "}}"},
    {"AccountUpdate", "{'type':'object','properties':{'full_name':{'type':'string'},'name':{'type':"
                      "'string'},'preference':" ANY_OBJ ",'password':{'type':'string','format':"
                      "'password'},'old_password':{'type':'string','format':'password'}}}"},
    {"Preferences", ANY_OBJ},
    {"AuditRecord", "{'type':'object','properties':{'id':{'type':'string'},'time':{'type':"
                    "'string'},'user':{'type':'object','nullable':true,'properties':{'id':{'type':"
                    "'string'},'email':{'type':'string'}}},'method':{'type':'string'},'path':{"
                    "'type':'string'},'status':{'type':'integer'},'entity':{'type':'object',"
                    "'properties':{'kind':{'type':'string'},'id':{'type':'string'},'id_sha256':{"
                    "'type':'string'}}},'before':{'type':'object','nullable':true},'after':{'type':"
                    "'object','nullable':true}}}"},
    {"EventSource", "{'type':'object','properties':{'id':{'type':'string'},'name':{'type':"
                    "'string'},'type':{'type':'array','items':{'type':'string'},'description':"
                    "'bridge types: rest, webhook, ...'},'enabled':{'type':'boolean'},"
                    "'description':{'type':'string'},'channel':{'type':'string'},'tags':" STRINGS
                    ",'transitional':{'type':'boolean'}}}"},
    {"Profile",
     "{'type':'object','properties':{'id':{'type':'string'},'ids':" STRINGS ",'metadata':" ANY_OBJ
     ",'stats':" ANY_OBJ ",'traits':" ANY_OBJ ",'data':" ANY_OBJ ",'segments':" STRINGS
     ",'interests':" ANY_OBJ ",'consents':" ANY_OBJ ",'aux':" ANY_OBJ "}}"},
    {"Session", "{'type':'object','properties':{'id':{'type':'string'},'profile':" REF_ID
                ",'metadata':" ANY_OBJ ",'context':" ANY_OBJ ",'properties':" ANY_OBJ
                ",'os':" ANY_OBJ ",'device':" ANY_OBJ ",'app':" ANY_OBJ ",'utm':" ANY_OBJ "}}"},
    {"Event", "{'type':'object','properties':{'id':{'type':'string'},'type':{'type':'string'},"
              "'name':{'type':'string'},'source':" REF_ID ",'session':" REF_ID
              ",'profile':{'type':'object','nullable':true,'properties':{'id':{'type':'string'}}"
              "},'metadata':" ANY_OBJ ",'properties':" ANY_OBJ ",'context':" ANY_OBJ
              ",'data':" ANY_OBJ ",'hit':" ANY_OBJ ",'tags':" ANY_OBJ "}}"},
    {"Erasure", "{'type':'object','properties':{'deleted':{'type':'object','properties':{"
                "'profiles':{'type':'integer'},'ids':{'type':'integer'},'sessions':{'type':"
                "'integer'},'events':{'type':'integer'}}},'erasure':{'type':'string'}}}"},
    {"ProfileExport", "{'type':'object','properties':{'profile':{'$ref':'#/components/schemas/"
                      "Profile'},'ids':" STRINGS ",'sessions':{'type':'array','items':{'$ref':"
                      "'#/components/schemas/Session'}},'events':{'type':'array','items':{'$ref':"
                      "'#/components/schemas/Event'}},'truncated':{'type':'boolean'},'merges':{"
                      "'type':'array','items':{'$ref':'#/components/schemas/MergeRecord'}},"
                      "'exported':{'type':'string'}}}"},
    {"MergeRequest", "{'type':'object','required':['ids'],'properties':{'ids':{'type':'array',"
                     "'minItems':2,'maxItems':100,'items':{'type':'string'}},'survivor':{'type':"
                     "'string'}}}"},
    {"MergeRecord", "{'type':'object','properties':{'id':{'type':'string'},'time':{'type':"
                    "'string'},'survivor':" ANY_OBJ ",'absorbed':{'type':'array','items':" ANY_OBJ
                    "},'cause':{'type':'array','items':" ANY_OBJ "},'undone':{'type':'string',"
                    "'nullable':true},'profile':{'$ref':'#/components/schemas/Profile'}}}"},
    {"Segment", "{'type':'object','properties':{'id':{'type':'string'},'name':{'type':'string'},"
                "'description':{'type':'string'},'eventType':" STRINGS ",'condition':{'type':"
                "'string'},'enabled':{'type':'boolean'},'remove_when_false':{'type':'boolean'},"
                "'machine_name':{'type':'string'},'count':{'type':'integer','readOnly':true}}}"},
    {"ConsentType", "{'type':'object','properties':{'id':{'type':'string'},'name':{'type':"
                    "'string'},'description':{'type':'string'},'revokable':{'type':'boolean'},"
                    "'default_value':{'type':'string','enum':['grant','deny']},'enabled':{'type':"
                    "'boolean'},'required':{'type':'boolean'},'tags':" STRINGS ",'auto_revoke':{"
                    "'type':'string','description':'30d, 12h, 1w or empty'}}}"},
    {"EventValidator", "{'type':'object','properties':{'id':{'type':'string'},'name':{'type':"
                       "'string'},'description':{'type':'string'},'event_type':" ID_NAME
                       ",'validation':{'type':'object','properties':{'json_schema':" ANY_OBJ
                       "}},'enabled':{'type':'boolean'},'tags':" STRINGS "}}"},
    {"EventToProfile", "{'type':'object','properties':{'id':{'type':'string'},'name':{'type':"
                       "'string'},'description':{'type':'string'},'event_type':" ID_NAME
                       ",'enabled':{'type':'boolean'},'config':{'type':'object','properties':{"
                       "'condition':{'type':'string'}}},'event_to_profile':{'type':'array',"
                       "'items':{'type':'object','properties':{'event':{},'op':{},'profile':{}}}},"
                       "'tags':" STRINGS "}}"},
    {"ReshapeSchema", "{'type':'object','properties':{'id':{'type':'string'},'name':{'type':"
                      "'string'},'description':{'type':'string'},'event_type':" ID_NAME
                      ",'event_source':" ID_NAME ",'reshaping':{'type':'object','properties':{"
                      "'reshape_schema':{'type':'object','properties':{'properties':" ANY_OBJ
                      ",'context':" ANY_OBJ ",'session':" ANY_OBJ "}}}},'enabled':{'type':"
                      "'boolean'},'tags':" STRINGS "}}"},
    {"IdentificationPoint",
     "{'type':'object','properties':{'id':{'type':'string'},'name':{'type':'string'},"
     "'description':{'type':'string'},'event_type':" ID_NAME ",'source':" ID_NAME
     ",'fields':{'type':'array','items':{'type':'object','properties':{'profile_trait':{},"
     "'event_property':{}}}},'enabled':{'type':'boolean'},'settings':" ANY_OBJ "}}"},
    {"EventType", "{'type':'object','properties':{'id':{'type':'string'},'name':{'type':'string'},"
                  "'group':{'type':'string'},'description':{'type':'string'},'properties':" ANY_OBJ
                  ",'profile':{'type':'array','items':" ANY_OBJ "},'copy':" ANY_OBJ
                  ",'tags':" STRINGS ",'state':{'type':'string'}}}"},
    {"EventTypesGrouped", "{'type':'object','properties':{'total':{'type':'integer'},'grouped':{"
                          "'type':'object','additionalProperties':{'type':'array','items':{'$ref':"
                          "'#/components/schemas/EventType'}}}}}"},
    {"Flow", "{'type':'object','properties':{'id':{'type':'string'},'name':{'type':'string'},"
             "'description':{'type':'string'},'tags':" STRINGS ",'type':{'type':'string'},"
             "'flowGraph':{'type':'object','properties':{'nodes':{'type':'array','items':" ANY_OBJ
             "},'edges':{'type':'array','items':" ANY_OBJ "}}},'deployed':{'type':'boolean',"
             "'readOnly':true},'timestamp':{'type':'string','readOnly':true}}}"},
    {"FlowDebugRequest",
     "{'type':'object','properties':{'flow':{'$ref':'#/components/schemas/"
     "Flow'},'event':" ANY_OBJ ",'profile':" ANY_OBJ ",'session':" ANY_OBJ "}}"},
    {"FlowDebugResult",
     "{'type':'object','properties':{'debugInfo':" ANY_OBJ ",'errors':" STRINGS
     ",'logs':{'type':'array','items':{}},'ux':{'type':'array','items':{}},'response':" ANY_OBJ
     ",'merge':{'type':'array','items':{}},'changes':" ANY_OBJ ",'profile':" ANY_OBJ
     ",'session':" ANY_OBJ ",'event':" ANY_OBJ "}}"},
    {"Plugins", "{'type':'object','properties':{'total':{'type':'integer'},'grouped':" ANY_OBJ
                ",'result':{'type':'array','items':" ANY_OBJ "}}}"},
    {"Rule", "{'type':'object','properties':{'id':{'type':'string'},'name':{'type':'string'},"
             "'description':{'type':'string'},'event_type':" ID_NAME ",'source':" ID_NAME
             ",'flow':" ID_NAME ",'enabled':{'type':'boolean'},'tags':" STRINGS
             ",'properties':{'type':'object','properties':{'consents':{'type':'array','items':"
             "" ANY_OBJ "}}}}}"},
    {"ImportResult",
     "{'type':'object','properties':{'documents':{'type':'integer'},'imported':{'type':"
     "'integer'},'replaced':{'type':'integer'},'merged':{'type':'integer'},'rejected_total':{"
     "'type':'integer'},'rejected':{'type':'array','items':{'type':'object','properties':{"
     "'line':{'type':'integer'},'index':{'type':'integer'},'id':{'type':'string'},'error':{"
     "'type':'string'}}}}}}"},
    {"ConfigBundle", "{'type':'object','required':['entities'],'properties':{'version':{'type':"
                     "'integer'},'cdpd':{'type':'string'},'exported':{'type':'string'},"
                     "'entities':{'type':'object','additionalProperties':{'type':'array','items':"
                     "" ANY_OBJ "}}}}"},
    {"ConfigImportResult", "{'type':'object','properties':{'mode':{'type':'string','enum':["
                           "'merge','replace']},'imported':{'type':'object',"
                           "'additionalProperties':{'type':'integer'}},'deleted':{'type':"
                           "'object','additionalProperties':{'type':'integer'}}}}"},
    {"DeployReport",
     "{'type':'object','properties':{'dry_run':{'type':'boolean'},'deployed':{'type':'boolean'},"
     "'added':{'type':'integer'},'changed':{'type':'integer'},'removed':{'type':'integer'},"
     "'unchanged':{'type':'integer'},'kinds':{'type':'object','additionalProperties':{'type':"
     "'object','properties':{'added':" STRINGS ",'changed':" STRINGS ",'removed':" STRINGS
     ",'unchanged':{'type':'integer'}}}}}}"},
    {"Resource", "{'type':'object','properties':{'id':{'type':'string'},'name':{'type':'string'},"
                 "'type':" ID_NAME ",'description':{'type':'string'},'credentials':{'type':"
                 "'object','properties':{'production':{},'test':{}}},'enabled':{'type':"
                 "'boolean'},'tags':" STRINGS ",'groups':" STRINGS ",'icon':{'type':'string'},"
                 "'destination':{'type':'object','nullable':true},'timestamp':{'type':'string',"
                 "'readOnly':true}}}"},
    {"Destination", "{'type':'object','properties':{'id':{'type':'string'},'name':{'type':"
                    "'string'},'description':{'type':'string'},'destination':" ANY_OBJ
                    ",'resource':" ID_NAME ",'condition':{'type':'string'},'mapping':" ANY_OBJ
                    ",'enabled':{'type':'boolean'},'on_profile_change_only':{'type':'boolean'},"
                    "'event_type':" ID_NAME ",'source':" ID_NAME ",'tags':" STRINGS "}}"},
    {"Setting", "{'type':'object','properties':{'id':{'type':'string'},'name':{'type':'string'},"
                "'type':{'type':'string'},'description':{'type':'string'},'enabled':{'type':"
                "'boolean'},'content':" ANY_OBJ ",'config':" ANY_OBJ ",'timestamp':{'type':"
                "'string','readOnly':true}}}"},

    {"Count", "{'type':'object','properties':{'count':{'type':'integer'}}}"},
    {"ValueCounts", "{'type':'array','items':{'type':'object','properties':{'name':{'type':"
                    "'string'},'value':{'type':'integer'},'id':{'type':'string'}}}}"},
    {"SearchRequest", "{'type':'object','properties':{'where':{'type':'string','description':"
                      "'A condition; fields without a source'},'limit':{'type':'integer',"
                      "'default':20,'maximum':1000},'start':{'type':'integer','default':0}}}"},
    {"RangeRequest",
     "{'type':'object','description':'A DatetimeRange of Tracardi','properties':{'minDate':{"
     "'$ref':'#/components/schemas/RangeDate'},'maxDate':{'$ref':'#/components/schemas/"
     "RangeDate'},'where':{'type':'string'},'timeZone':{'type':'string'},'start':{'type':"
     "'integer'},'limit':{'type':'integer'}}}"},
    {"RangeDate",
     "{'type':'object','nullable':true,'properties':{'absolute':{'type':'object','nullable':"
     "true,'properties':{'year':{'type':'integer'},'month':{'type':'integer'},'date':{'type':"
     "'integer'},'hour':{'type':'integer'},'minute':{'type':'integer'},'second':{'type':"
     "'integer'},'meridiem':{'type':'string','enum':['AM','PM']},'timeZone':{'type':"
     "'integer'}}},'delta':{'type':'object','nullable':true,'properties':{'value':{'type':"
     "'integer'},'entity':{'type':'string','enum':['second','minute','hour','day','week',"
     "'month','year']}}}}}"},
    {"SearchResult", "{'type':'object','additionalProperties':true,'description':'A profile, "
                     "session or event'}"},
    {"Histogram", "{'type':'object','properties':{'total':{'type':'integer'},'result':{'type':"
                  "'array','items':{'type':'object'}},'buckets':" STRINGS "}}"},
};

static const char *const role_names[] = {"admin", "developer", "marketer", "maintainer"};

#define MALFORMED "malformed schema literal in src/api/openapi.c"

/* Parses JSON written with ' for ". A literal that does not parse becomes the string MALFORMED,
 * which no schema may be: the tests and any validator then point at it. */
static cJSON *json_q(const char *s)
{
    size_t n = strlen(s);
    char *t = malloc(n + 1);
    if (!t)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        t[i] = s[i] == '\'' ? '"' : s[i];
    cJSON *j = cdp_json_parse(t, n, NULL);
    free(t);
    return j ? j : cJSON_CreateString(MALFORMED);
}

static cJSON *schema_ref(const char *name)
{
    char ref[128];
    snprintf(ref, sizeof(ref), "#/components/schemas/%s", name);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "$ref", ref);
    return j;
}

/* A schema as the table writes it: a name, "[name]" for a page of them, or inline JSON. */
static cJSON *schema_of(const char *spec)
{
    if (!spec || strcmp(spec, "any") == 0)
        return cJSON_CreateObject();
    if (spec[0] == '{')
        return json_q(spec);
    if (spec[0] == '[') {
        char name[96];
        snprintf(name, sizeof(name), "%.*s", (int)strcspn(spec + 1, "]"), spec + 1);
        cJSON *page = json_q("{'type':'object','properties':{'total':{'type':'integer'},"
                             "'result':{'type':'array'}}}");
        cJSON *result = cdp_json_get(page, "properties.result");
        if (result)
            cJSON_AddItemToObject(result, "items", schema_ref(name));
        return page;
    }
    return schema_ref(spec);
}

static cJSON *content(const char *ctype, cJSON *schema)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToObject(cJSON_AddObjectToObject(c, ctype), "schema", schema);
    return c;
}

static const struct op_doc *doc_of(const struct cdp_route *rt)
{
    char key[256];
    snprintf(key, sizeof(key), "%s %s", rt->method, rt->pattern);
    for (size_t i = 0; i < sizeof(op_docs) / sizeof(op_docs[0]); i++)
        if (strcmp(op_docs[i].route, key) == 0)
            return &op_docs[i];
    return NULL;
}

/* "get_event_source_by_id" from GET /event-source/{id}; unique within the document. */
static void operation_id(const struct cdp_route *rt, cJSON *seen, char *out, size_t n)
{
    size_t k = 0;
    for (const char *m = rt->method; *m && k + 1 < n; m++)
        out[k++] = (char)(*m >= 'A' && *m <= 'Z' ? *m - 'A' + 'a' : *m);
    for (const char *p = rt->pattern; *p && k + 4 < n; p++) {
        char c = *p;
        if (c == '{') {
            const char *by = k && out[k - 1] == '_' ? "by_" : "_by_";
            memcpy(out + k, by, strlen(by));
            k += strlen(by);
            continue;
        }
        if (c == '}')
            continue;
        bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!word && k && out[k - 1] == '_')
            continue;
        out[k++] = word ? c : '_';
    }
    while (k > 0 && out[k - 1] == '_')
        k--;
    out[k] = '\0';
    if (strcmp(rt->pattern, "/") == 0)
        snprintf(out + k, n - k, "_root");
    if (cJSON_GetObjectItemCaseSensitive(seen, out)) {
        size_t base = k;
        for (int i = 2; cJSON_GetObjectItemCaseSensitive(seen, out); i++)
            snprintf(out + base, n - base, "_%d", i);
    }
    cJSON_AddTrueToObject(seen, out);
}

/* The tag of a route: "collector" for the collector's, "service" for the version, health,
 * this document and the metrics, else its first path segment, singular. */
static void tag_of(const struct cdp_route *rt, bool collector, char *out, size_t n)
{
    if (collector) {
        snprintf(out, n, "collector");
        return;
    }
    const char *p = rt->pattern + 1;
    size_t len = strcspn(p, "/");
    static const char *const service[] = {"", "healthcheck", "openapi.json", "metrics"};
    for (size_t i = 0; i < sizeof(service) / sizeof(service[0]); i++)
        if (strlen(service[i]) == len && strncmp(p, service[i], len) == 0) {
            snprintf(out, n, "service");
            return;
        }
    if (len > 3 && p[len - 1] == 's')
        len--;
    snprintf(out, n, "%.*s", (int)len, p);
}

/* components.responses: the error answers operations refer to. */
static const struct {
    const char *name, *description;
} error_responses[] = {
    {"Unauthorized", "No valid bearer token"},
    {"Forbidden", "The token's roles may not use this route"},
    {"NotFound", "Not found"},
    {"Unprocessable", "Invalid request: detail names the field"},
    {"TooLarge", "Body over the limit"},
    {"Error", "Error"},
};

static void add_response_ref(cJSON *responses, const char *code, const char *name)
{
    char ref[96];
    snprintf(ref, sizeof(ref), "#/components/responses/%s", name);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(responses, code), "$ref", ref);
}

static cJSON *operation(const struct cdp_route *rt, bool collector, cJSON *seen)
{
    const struct op_doc *d = doc_of(rt);
    cJSON *op = cJSON_CreateObject();
    char buf[256];
    operation_id(rt, seen, buf, sizeof(buf));
    cJSON_AddStringToObject(op, "operationId", buf);
    cJSON_AddStringToObject(op, "summary", d ? d->summary : "");
    tag_of(rt, collector, buf, sizeof(buf));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(op, "tags"), cJSON_CreateString(buf));

    unsigned roles = rt->roles & CDP_ROLES_ALL;
    cJSON *xroles = cJSON_AddArrayToObject(op, "x-roles");
    char desc[256];
    size_t k = (size_t)snprintf(desc, sizeof(desc), "%s", roles ? "Roles: " : "Public: no token.");
    for (unsigned i = 0; i < 4; i++)
        if (roles & (1u << i)) {
            cJSON_AddItemToArray(xroles, cJSON_CreateString(role_names[i]));
            k += (size_t)snprintf(desc + k, k < sizeof(desc) ? sizeof(desc) - k : 0, "%s%s",
                                  cJSON_GetArraySize(xroles) > 1 ? ", " : "", role_names[i]);
        }
    if (roles && k < sizeof(desc))
        k += (size_t)snprintf(desc + k, sizeof(desc) - k, ".");
    if (rt->roles & CDP_ROUTE_BULK && k < sizeof(desc))
        snprintf(desc + k, sizeof(desc) - k, " Bodies up to --max-import-body bytes.");
    if (collector)
        snprintf(desc + strlen(desc), sizeof(desc) - strlen(desc),
                 " Served by the collector listener.");
    cJSON_AddStringToObject(op, "description", desc);
    cJSON *security = cJSON_AddArrayToObject(op, "security"); /* [] = no token */
    if (roles) {
        cJSON *bearer = cJSON_CreateObject();
        cJSON_AddArrayToObject(bearer, "bearer");
        cJSON_AddItemToArray(security, bearer);
    }

    cJSON *params = cJSON_CreateArray();
    for (const char *p = strchr(rt->pattern, '{'); p; p = strchr(p + 1, '{')) {
        size_t len = strcspn(p + 1, "}");
        snprintf(buf, sizeof(buf), "%.*s", (int)len, p + 1);
        cJSON *prm = cJSON_CreateObject();
        cJSON_AddStringToObject(prm, "name", buf);
        cJSON_AddStringToObject(prm, "in", "path");
        cJSON_AddTrueToObject(prm, "required");
        cJSON_AddStringToObject(cJSON_AddObjectToObject(prm, "schema"), "type", "string");
        cJSON_AddItemToArray(params, prm);
    }
    if (roles && !collector && !(rt->roles & CDP_API_ROUTE_PRODUCTION)) {
        cJSON *ref = cJSON_CreateObject(); /* the guard reads it on these routes */
        cJSON_AddStringToObject(ref, "$ref", "#/components/parameters/x-context");
        cJSON_AddItemToArray(params, ref);
    }
    for (const char *q = d ? d->query : NULL; q && *q;) {
        size_t len = strcspn(q, " ");
        snprintf(buf, sizeof(buf), "#/components/parameters/%.*s", (int)len, q);
        cJSON *ref = cJSON_CreateObject();
        cJSON_AddStringToObject(ref, "$ref", buf);
        cJSON_AddItemToArray(params, ref);
        q += len;
        q += strspn(q, " ");
    }
    if (cJSON_GetArraySize(params))
        cJSON_AddItemToObject(op, "parameters", params);
    else
        cJSON_Delete(params);

    const char *body = d ? d->body : NULL;
    if (body) {
        cJSON *rb = cJSON_AddObjectToObject(op, "requestBody");
        cJSON_AddTrueToObject(rb, "required");
        if (strncmp(body, "form:", 5) == 0) {
            cJSON_AddItemToObject(
                rb, "content", content("application/x-www-form-urlencoded", schema_of(body + 5)));
        } else if (strcmp(body, "ndjson") == 0) {
            cJSON *c = content("application/x-ndjson",
                               json_q("{'type':'string','description':'one JSON document a "
                                      "line'}"));
            cJSON_AddItemToObject(cJSON_AddObjectToObject(c, "application/json"), "schema",
                                  json_q("{'type':'array','items':{'type':'object'}}"));
            cJSON_AddItemToObject(rb, "content", c);
        } else {
            cJSON_AddItemToObject(rb, "content", content("application/json", schema_of(body)));
        }
    }

    cJSON *responses = cJSON_AddObjectToObject(op, "responses");
    cJSON *ok = cJSON_AddObjectToObject(responses, "200");
    const char *reply = d ? d->reply : NULL;
    cJSON_AddStringToObject(ok, "description", "OK");
    if (reply && strcmp(reply, "text") == 0)
        cJSON_AddItemToObject(ok, "content", content("text/plain", json_q("{'type':'string'}")));
    else
        cJSON_AddItemToObject(ok, "content", content("application/json", schema_of(reply)));
    if (reply && strcmp(reply, "TrackResponse") == 0) { /* Tracardi's status when errors[] */
        cJSON *e = cJSON_AddObjectToObject(responses, "226");
        cJSON_AddStringToObject(e, "description", "Stored, but a flow failed: see errors");
        cJSON_AddItemToObject(e, "content", content("application/json", schema_of(reply)));
    }
    if (roles) {
        add_response_ref(responses, "401", "Unauthorized");
        add_response_ref(responses, "403", "Forbidden");
    }
    if (strchr(rt->pattern, '{'))
        add_response_ref(responses, "404", "NotFound");
    if (body)
        add_response_ref(responses, "413", "TooLarge");
    if (body || (d && d->query))
        add_response_ref(responses, "422", "Unprocessable");
    add_response_ref(responses, "default", "Error");
    return op;
}

static void add_routes(cJSON *paths, const struct cdp_route *routes, size_t n, bool collector,
                       cJSON *collector_server, cJSON *seen)
{
    for (size_t i = 0; i < n; i++) {
        const struct cdp_route *rt = &routes[i];
        cJSON *item = cJSON_GetObjectItemCaseSensitive(paths, rt->pattern);
        char method[16];
        size_t k = 0;
        for (; rt->method[k] && k + 1 < sizeof(method); k++)
            method[k] = (char)(rt->method[k] - 'A' + 'a');
        method[k] = '\0';
        if (item && collector && !cJSON_GetObjectItemCaseSensitive(item, "servers")) {
            /* Both listeners answer it (/, /healthcheck): described once, for both. */
            cJSON *op = cJSON_GetObjectItemCaseSensitive(item, method);
            if (op)
                cJSON_ReplaceItemInObjectCaseSensitive(
                    op, "description",
                    cJSON_CreateString("Public: no token. Served by both listeners."));
            continue;
        }
        if (!item) {
            item = cJSON_AddObjectToObject(paths, rt->pattern);
            if (collector)
                cJSON_AddItemToArray(cJSON_AddArrayToObject(item, "servers"),
                                     cJSON_Duplicate(collector_server, true));
        }
        cJSON_AddItemToObject(item, method, operation(rt, collector, seen));
    }
}

/* The collector's server: its port from --listen, the host a variable (0.0.0.0 is no host). */
static cJSON *collector_server(const struct cdp_config *cfg)
{
    cJSON *s = json_q("{'url':'http://{host}:{port}','description':'collector listener "
                      "(--listen; role collector)','variables':{'host':{'default':'localhost'},"
                      "'port':{'default':'8686'}}}");
    const char *colon = cfg ? strrchr(cfg->listen, ':') : NULL;
    cJSON *vars = cJSON_GetObjectItemCaseSensitive(s, "variables");
    if (colon && colon[1]) {
        cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(vars, "port"),
                                               "default", cJSON_CreateString(colon + 1));
        char host[128];
        snprintf(host, sizeof(host), "%.*s", (int)(colon - cfg->listen), cfg->listen);
        if (*host && strcmp(host, "0.0.0.0") != 0 && strcmp(host, "[::]") != 0)
            cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(vars, "host"),
                                                   "default", cJSON_CreateString(host));
    }
    return s;
}

cJSON *cdp_api_openapi_doc(const struct cdp_config *cfg)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "openapi", "3.0.3");
    cJSON *info = cJSON_AddObjectToObject(doc, "info");
    cJSON_AddStringToObject(info, "title", "cdpd");
    cJSON_AddStringToObject(info, "version", CDPD_VERSION);
    cJSON_AddStringToObject(
        info, "description",
        "A customer data platform compatible with Tracardi. The management API (this listener, "
        "private) needs a bearer token from POST /user/token on every route but a few; x-roles "
        "lists the roles that may call a route. The collection endpoints are served by the "
        "collector listener (public, no token). The header x-context: staging makes a "
        "management request work on the staging data. Errors are {\"detail\": ...}. "
        "docs/api.md describes every endpoint in full.");
    cJSON *servers = cJSON_AddArrayToObject(doc, "servers");
    cJSON_AddItemToArray(servers, json_q("{'url':'/','description':'management listener "
                                         "(--admin-listen; role api)'}"));
    cJSON *collector = collector_server(cfg);
    cJSON *paths = cJSON_AddObjectToObject(doc, "paths");
    cJSON *seen = cJSON_CreateObject();
    add_routes(paths, cdp_api_routes, cdp_api_nroutes, false, collector, seen);
    add_routes(paths, cdp_collect_routes, cdp_collect_nroutes, true, collector, seen);
    cJSON_Delete(seen);
    cJSON_Delete(collector);

    cJSON *comp = cJSON_AddObjectToObject(doc, "components");
    cJSON_AddItemToObject(cJSON_AddObjectToObject(comp, "securitySchemes"), "bearer",
                          json_q("{'type':'http','scheme':'bearer','description':'access_token "
                                 "of POST /user/token; it expires after --token-ttl idle "
                                 "seconds'}"));
    cJSON *resp = cJSON_AddObjectToObject(comp, "responses");
    for (size_t i = 0; i < sizeof(error_responses) / sizeof(error_responses[0]); i++) {
        cJSON *r = cJSON_AddObjectToObject(resp, error_responses[i].name);
        cJSON_AddStringToObject(r, "description", error_responses[i].description);
        cJSON_AddItemToObject(r, "content", content("application/json", schema_ref("Error")));
    }
    cJSON *prm = cJSON_AddObjectToObject(comp, "parameters");
    for (size_t i = 0; i < sizeof(parameters) / sizeof(parameters[0]); i++)
        cJSON_AddItemToObject(prm, parameters[i].name, json_q(parameters[i].json));
    cJSON *sch = cJSON_AddObjectToObject(comp, "schemas");
    for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++)
        cJSON_AddItemToObject(sch, schemas[i].name, json_q(schemas[i].json));
    return doc;
}

size_t cdp_api_openapi_undocumented(const struct cdp_route **out, size_t max)
{
    size_t n = 0;
    for (int t = 0; t < 2; t++) {
        const struct cdp_route *routes = t ? cdp_collect_routes : cdp_api_routes;
        size_t nr = t ? cdp_collect_nroutes : cdp_api_nroutes;
        for (size_t i = 0; i < nr; i++)
            if (!doc_of(&routes[i])) {
                if (n < max)
                    out[n] = &routes[i];
                n++;
            }
    }
    return n;
}

void cdp_api_openapi(struct cdp_http_req *req, void *app)
{
    cdp_http_reply_json(req, 200, cdp_api_openapi_doc(cdp_api_config(app)));
}
