/* Unit tests of the profile and text plugins (src/flow/plugins/profile.c and text.c), each run
 * alone with cdp_plugin_run1 against a hand-built context: outputs (port and value), writes to
 * the profile and ctx (segments, consents, interests, merge keys, ux) with the changed bits,
 * logs, and every config error. Plugins are looked up by Tracardi's module and class (cdpd's own
 * by id) so the registry is tested too. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/json.h"
#include "flow/flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char profile_json[] =
    "{\"id\":\"p1\",\"segments\":[\"vip\",\"old\"],\"interests\":{\"shoes\":2,\"bad\":\"x\"},"
    "\"consents\":{\"marketing\":{\"revoke\":null},"
    "\"expired\":{\"revoke\":\"2020-01-01T00:00:00+00:00\"},"
    "\"future\":{\"revoke\":\"2030-01-01T00:00:00+00:00\"},\"broken\":{\"revoke\":\"soon\"}},"
    "\"traits\":{\"tier\":\"gold\",\"tiers\":[\"a\",\"b\"],\"num\":3,\"mixed\":[\"a\",1]},"
    "\"data\":{\"contact\":{\"email\":{\"main\":\"ann@example.com\"}}}}";
static const char event_json[] =
    "{\"id\":\"e1\",\"type\":\"purchase\",\"properties\":{"
    "\"consents\":{\"newsletter\":true,\"sms\":false,"
    "\"legacy\":{\"revoke\":\"2025-01-01T00:00:00+00:00\"}},"
    "\"text\":\"Hello World\",\"csv\":\"a, b ,c\",\"list\":[\"x\",\"y\",\"z\"],"
    "\"mixed\":[\"x\",1],\"num\":5,\"date\":\"2024-01-17T12:00:00Z\",\"bad_date\":\"yesterday\","
    "\"interest\":\"tech\",\"interests\":[\"a\",\"b\"],\"badint\":\"has space\","
    "\"pair\":\"a,b\"}}";
static const char session_json[] =
    "{\"id\":\"s1\",\"context\":{\"time\":{\"tz\":\"Europe/Warsaw\"}}}";

#define NOW_US  ((int64_t)1705579200 * 1000000) /* 2024-01-18T12:00:00Z, a Thursday */
#define NOW_ISO "2024-01-18T12:00:00.000000+00:00"

#define V1        "tracardi.process_engine.action.v1."
#define ADD_SEG   V1 "segmentation.add.plugin", "AddSegmentAction"
#define DEL_SEG   V1 "segmentation.delete.plugin", "DeleteSegmentAction"
#define MOVE_SEG  V1 "segmentation.move.plugin", "MoveSegmentAction"
#define HAS_SEG   V1 "segmentation.has.plugin", "HasSegmentAction"
#define COND_SEG  V1 "segmentation.conditional.plugin", "ProfileSegmentAction"
#define ADD_CONS  V1 "consents.add_consent_action.plugin", "ConsentAdder"
#define HAS_CONS  V1 "consents.require_consents_action.plugin", "RequireConsentsAction"
#define MERGE     V1 "operations.merge_profiles_action", "MergeProfilesAction"
#define INC_INT   V1 "interest.increase.plugin", "IncreaseInterestAction"
#define DEC_INT   V1 "interest.decrease.plugin", "DecreaseInterestAction"
#define SNACK     V1 "ux.snackbar.plugin", "SnackBarUx"
#define UX_TAG    "cdpd.plugin.ux-tag", NULL
#define STR_PROPS V1 "strings.string_operations.plugin", "StringPropertiesActions"
#define SPLIT     V1 "strings.string_splitter.plugin", "SplitterAction"
#define JOIN      V1 "strings.string_join.plugin", "JoinAction"
#define RE_MATCH  V1 "strings.regex_match.plugin", "RegexMatchAction"
#define RE_REPL   V1 "strings.regex_replace.plugin", "RegexReplacer"
#define CONTAINS  V1 "contains_string_action", "ContainsStringAction"
#define STARTS    V1 "starts_with_action", "StartsWithAction"
#define ENDS      V1 "ends_with_action", "EndsWithAction"
#define TODAY     V1 "time.today_action", "TodayAction"
#define TIME_DIFF V1 "time.time_difference.plugin", "TimeDiffCalculator"
#define DATE_FMT  "cdpd.plugin.date-format", NULL

#define CH_PROFILE CDP_FLOW_CHANGED(CDP_PATH_PROFILE)

#include "plugin_fixture.h"

/* --- registry --- */

static void test_registry(void **state)
{
    (void)state;
    /* Ports as Tracardi has them (test_engine checks the registry as a whole). */
    assert_string_equal(find(HAS_SEG)->outputs, "True,False");
    assert_string_equal(find(COND_SEG)->outputs, "true,false,error");
    assert_string_equal(find(ADD_SEG)->outputs, "payload,error");
    assert_string_equal(find(HAS_CONS)->outputs, "true,false");
    assert_string_equal(find(MERGE)->outputs, "payload,error");
    assert_string_equal(find(RE_REPL)->outputs, "replaced,not_found");
    assert_string_equal(find(TIME_DIFF)->outputs, "time_difference");
    assert_string_equal(find(INC_INT)->outputs, "payload,error");
}

/* --- Add segment --- */

static void test_add_segment(void **state)
{
    struct fx *f = *state;
    expect(f, ADD_SEG, "{\"segment\":\"new\"}", "{\"a\":1}",
           "[{\"port\":\"payload\",\"value\":{\"a\":1}}]");
    assert_at(f, "profile@segments", "[\"vip\",\"old\",\"new\"]");
    assert_at(f, "profile@metadata.time.segmentation", "\"" NOW_ISO "\"");
    assert_int_equal(f->ctx.changed, CH_PROFILE);
}

static void test_add_segment_present(void **state)
{
    struct fx *f = *state;
    expect(f, ADD_SEG, "{\"segment\":\"vip\"}", NULL, "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@segments", "[\"vip\",\"old\"]");
    assert_at(f, "profile@metadata", NULL);
    assert_int_equal(f->ctx.changed, 0);
}

static void test_add_segment_refs(void **state)
{
    struct fx *f = *state;
    expect(f, ADD_SEG, "{\"segment\":\"profile@traits.tier\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@segments", "[\"vip\",\"old\",\"gold\"]");
    expect(f, ADD_SEG, "{\"segment\":[\"x\",\"profile@traits.tiers\",\"vip\"]}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@segments", "[\"vip\",\"old\",\"gold\",\"x\",\"a\",\"b\"]");
    /* a missing segments list is created */
    cJSON_DeleteItemFromObject(f->ctx.profile, "segments");
    expect(f, ADD_SEG, "{\"segment\":\"first\"}", NULL, "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@segments", "[\"first\"]");
}

static void test_add_segment_errors(void **state)
{
    struct fx *f = *state;
    expect(f, ADD_SEG, "{\"segment\":\"profile@traits.nope\"}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":"
           "\"segment: profile@traits.nope is missing\"}}]");
    assert_log(f, "error", "segment: profile@traits.nope is missing");
    expect(f, ADD_SEG, "{\"segment\":\"profile@traits.num\"}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":\"segment: profile@traits.num must hold "
           "a segment name or a list of segment names\"}}]");
    expect(f, ADD_SEG, "{\"segment\":[\"profile@traits.mixed\"]}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":\"segment: profile@traits.mixed must "
           "hold a segment name or a list of segment names\"}}]");
    assert_int_equal(f->ctx.changed, 0);
    cJSON_ReplaceItemInObject(f->ctx.profile, "segments", cJSON_CreateString("vip"));
    expect(f, ADD_SEG, "{\"segment\":\"x\"}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":\"profile@segments is not a list\"}}]");
    drop_profile(f);
    expect(f, ADD_SEG, "{\"segment\":\"x\"}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":\"cannot add a segment: the request has "
           "no profile (profile-less event)\"}}]");
    assert_int_equal(f->ctx.changed, 0);
}

static void test_add_segment_config(void **state)
{
    struct fx *f = *state;
    expect_fail(f, ADD_SEG, "{}", NULL, "segment: cannot be empty");
    expect_fail(f, ADD_SEG, "{\"segment\":\"\"}", NULL, "segment: cannot be empty");
    expect_fail(f, ADD_SEG, "{\"segment\":\"  \"}", NULL, "segment: cannot be empty");
    expect_fail(f, ADD_SEG, "{\"segment\":[]}", NULL, "segment: cannot be empty");
    expect_fail(f, ADD_SEG, "{\"segment\":5}", NULL, "segment: must be a segment name");
    expect_fail(f, ADD_SEG, "{\"segment\":[\"a\",\"\"]}", NULL, "segment: item 1");
    expect_fail(f, ADD_SEG, "{\"segment\":[\"a\",{}]}", NULL, "segment: item 1");
}

/* --- Delete / Move / Has segment --- */

static void test_delete_segment(void **state)
{
    struct fx *f = *state;
    cJSON_AddItemToArray(cJSON_GetObjectItem(f->ctx.profile, "segments"),
                         cJSON_CreateString("vip"));
    expect(f, DEL_SEG, "{\"segment\":\"vip\"}", "{\"k\":\"v\"}",
           "[{\"port\":\"payload\",\"value\":{\"k\":\"v\"}}]");
    assert_at(f, "profile@segments", "[\"old\"]");
    assert_at(f, "profile@metadata.time.segmentation", "\"" NOW_ISO "\"");
    assert_int_equal(f->ctx.changed, CH_PROFILE);
    f->ctx.changed = 0;
    expect(f, DEL_SEG, "{\"segment\":\"nope\"}", NULL, "[{\"port\":\"payload\",\"value\":{}}]");
    assert_int_equal(f->ctx.changed, 0);
    expect_fail(f, DEL_SEG, "{}", NULL, "segment: is required");
    expect_fail(f, DEL_SEG, "{\"segment\":3}", NULL, "segment: must be a string");
    drop_profile(f);
    expect_fail(f, DEL_SEG, "{\"segment\":\"vip\"}", NULL,
                "cannot delete a segment: the request has no profile");
}

static void test_move_segment(void **state)
{
    struct fx *f = *state;
    expect(f, MOVE_SEG, "{\"from_segment\":\"vip\",\"to_segment\":\"gold\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@segments", "[\"old\",\"gold\"]");
    assert_int_equal(f->ctx.changed, CH_PROFILE);
    /* from absent: still joins the target */
    expect(f, MOVE_SEG, "{\"from_segment\":\"nope\",\"to_segment\":\"new\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@segments", "[\"old\",\"gold\",\"new\"]");
    f->ctx.changed = 0;
    expect(f, MOVE_SEG, "{\"from_segment\":\"nope\",\"to_segment\":\"new\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_int_equal(f->ctx.changed, 0);
    expect_fail(f, MOVE_SEG, "{\"to_segment\":\"a\"}", NULL, "from_segment: is required");
    expect_fail(f, MOVE_SEG, "{\"from_segment\":\"a\",\"to_segment\":\"\"}", NULL,
                "to_segment: is required");
    drop_profile(f);
    expect_fail(f, MOVE_SEG, "{\"from_segment\":\"a\",\"to_segment\":\"b\"}", NULL,
                "cannot move a segment");
}

static void test_has_segment(void **state)
{
    struct fx *f = *state;
    expect(f, HAS_SEG, "{\"segment\":\"vip\"}", "{\"a\":1}",
           "[{\"port\":\"True\",\"value\":{\"a\":1}}]");
    expect(f, HAS_SEG, "{\"segment\":\"VIP\"}", NULL, "[{\"port\":\"False\",\"value\":{}}]");
    assert_int_equal(f->ctx.changed, 0);
    expect_fail(f, HAS_SEG, "{\"segment\":\"\"}", NULL, "segment: is required");
    drop_profile(f);
    expect(f, HAS_SEG, "{\"segment\":\"vip\"}", NULL, "[{\"port\":\"False\",\"value\":{}}]");
    assert_log(f, "warning",
               "cannot check the segment: the request has no profile (profile-less event)");
}

/* --- Conditional segmentation --- */

static void test_cond_segment(void **state)
{
    struct fx *f = *state;
    const char *cfg_true = "{\"condition\":\"profile@traits.num > 2\",\"true_action\":\"add\","
                           "\"true_segment\":\"big\",\"false_action\":\"remove\","
                           "\"false_segment\":\"vip\"}";
    expect(f, COND_SEG, cfg_true, "{\"p\":1}", "[{\"port\":\"true\",\"value\":{\"p\":1}}]");
    assert_at(f, "profile@segments", "[\"vip\",\"old\",\"big\"]");
    assert_int_equal(f->ctx.changed, CH_PROFILE);
    expect(f, COND_SEG,
           "{\"condition\":\"profile@traits.num > 5\",\"true_action\":\"add\","
           "\"true_segment\":\"big\",\"false_action\":\"REMOVE\",\"false_segment\":\"vip\"}",
           NULL, "[{\"port\":\"false\",\"value\":{}}]");
    assert_at(f, "profile@segments", "[\"old\",\"big\"]");
    f->ctx.changed = 0;
    expect(f, COND_SEG,
           "{\"condition\":\"profile@traits.num > 2\",\"true_action\":\"none\","
           "\"false_action\":\"none\"}",
           NULL, "[{\"port\":\"true\",\"value\":{}}]");
    assert_int_equal(f->ctx.changed, 0);
    /* defaults: add on true, remove on false */
    expect(f, COND_SEG,
           "{\"condition\":\"profile@nope EXISTS\",\"true_segment\":\"x\","
           "\"false_segment\":\"old\"}",
           NULL, "[{\"port\":\"false\",\"value\":{}}]");
    assert_at(f, "profile@segments", "[\"big\"]");
    drop_profile(f);
    expect(f, COND_SEG, cfg_true, NULL, "[{\"port\":\"false\",\"value\":{}}]");
    assert_log(f, "warning", "cannot segment: the request has no profile (profile-less event)");
}

static void test_cond_segment_config(void **state)
{
    struct fx *f = *state;
    expect_fail(f, COND_SEG, "{\"true_segment\":\"a\",\"false_segment\":\"b\"}", NULL,
                "condition: is required");
    expect_fail(f, COND_SEG,
                "{\"condition\":\"profile@x ==\",\"true_segment\":\"a\",\"false_segment\":\"b\"}",
                NULL, "condition: at ");
    expect_fail(f, COND_SEG,
                "{\"condition\":\"profile@x EXISTS\",\"true_action\":\"drop\","
                "\"true_segment\":\"a\",\"false_segment\":\"b\"}",
                NULL, "true_action: must be one of add, remove, none");
    expect_fail(f, COND_SEG,
                "{\"condition\":\"profile@x EXISTS\",\"false_action\":1,"
                "\"true_segment\":\"a\",\"false_segment\":\"b\"}",
                NULL, "false_action: must be one of");
    expect_fail(f, COND_SEG, "{\"condition\":\"profile@x EXISTS\",\"false_segment\":\"b\"}", NULL,
                "true_segment: is required when true_action is add");
    expect_fail(f, COND_SEG, "{\"condition\":\"profile@x EXISTS\",\"true_segment\":\"b\"}", NULL,
                "false_segment: is required when false_action is remove");
    expect_fail(f, COND_SEG,
                "{\"condition\":\"profile@x EXISTS\",\"true_segment\":[],"
                "\"false_segment\":\"b\"}",
                NULL, "true_segment: must be a string");
}

/* --- Add consent / Has consents --- */

static void test_add_consent(void **state)
{
    struct fx *f = *state;
    expect(f, ADD_CONS, "{\"consents\":\"event@properties.consents\"}", "{\"x\":1}",
           "[{\"port\":\"payload\",\"value\":{\"x\":1}}]");
    assert_at(f, "profile@consents.newsletter", "{\"revoke\":null}");
    assert_at(f, "profile@consents.sms", NULL);
    assert_at(f, "profile@consents.legacy", "{\"revoke\":\"2025-01-01T00:00:00+00:00\"}");
    assert_at(f, "profile@consents.marketing", "{\"revoke\":null}");
    assert_int_equal(f->ctx.changed, CH_PROFILE);
}

static void test_add_consent_auto_revoke(void **state)
{
    struct fx *f = *state;
    cJSON_DeleteItemFromObject(f->ctx.profile, "consents");
    expect(f, ADD_CONS, "{\"consents\":\"event@properties.consents\",\"auto_revoke\":\"30d\"}",
           NULL, "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@consents",
              "{\"newsletter\":{\"revoke\":\"2024-02-17T12:00:00.000000+00:00\"},"
              "\"legacy\":{\"revoke\":\"2025-01-01T00:00:00+00:00\"}}");
}

static void test_add_consent_errors(void **state)
{
    struct fx *f = *state;
    expect_fail(f, ADD_CONS, "{}", NULL, "consents: is required");
    expect_fail(f, ADD_CONS, "{\"consents\":null}", NULL, "consents: is required");
    expect_fail(f, ADD_CONS, "{\"consents\":\"abc\"}", NULL, "consents: 'abc' is not a reference");
    expect_fail(f, ADD_CONS,
                "{\"consents\":\"event@properties.consents\",\"auto_revoke\":\"soon\"}", NULL,
                "auto_revoke: 'soon' is not a positive duration");
    expect_fail(f, ADD_CONS, "{\"consents\":\"event@properties.nope\"}", NULL,
                "consents: event@properties.nope is missing");
    expect_fail(f, ADD_CONS, "{\"consents\":\"event@properties.list\"}", NULL,
                "must be an object of consent id -> true/false");
    cJSON_AddItemToObject(cJSON_GetObjectItem(f->ctx.event, "properties"), "c1",
                          parse("{\"a\":1}"));
    expect_fail(f, ADD_CONS, "{\"consents\":\"event@properties.c1\"}", NULL,
                "consents: a must be true, false or {revoke}");
    cJSON_AddItemToObject(cJSON_GetObjectItem(f->ctx.event, "properties"), "c2",
                          parse("{\"a\":{\"revoke\":\"later\"}}"));
    expect_fail(f, ADD_CONS, "{\"consents\":\"event@properties.c2\"}", NULL,
                "consents: a.revoke must be an ISO date-time or null");
    assert_int_equal(f->ctx.changed, 0);
    drop_profile(f);
    expect_fail(f, ADD_CONS, "{\"consents\":\"event@properties.consents\"}", NULL,
                "cannot add consents: the request has no profile");
}

static void test_has_consents(void **state)
{
    struct fx *f = *state;
    expect(f, HAS_CONS, "{\"consent_ids\":[\"expired\",\"marketing\"]}", "{\"a\":1}",
           "[{\"port\":\"true\",\"value\":{\"a\":1}}]");
    expect(f, HAS_CONS, "{\"consent_ids\":[\"expired\",\"nope\"],\"require_all\":false}", NULL,
           "[{\"port\":\"false\",\"value\":{}}]");
    expect(f, HAS_CONS, "{\"consent_ids\":[{\"id\":\"future\",\"name\":\"Future\"}]}", NULL,
           "[{\"port\":\"true\",\"value\":{}}]");
    expect(f, HAS_CONS, "{\"consent_ids\":[\"marketing\",\"future\"],\"require_all\":true}", NULL,
           "[{\"port\":\"true\",\"value\":{}}]");
    expect(f, HAS_CONS, "{\"consent_ids\":[\"marketing\",\"expired\"],\"require_all\":true}", NULL,
           "[{\"port\":\"false\",\"value\":{}}]");
    expect(f, HAS_CONS, "{\"consent_ids\":[\"marketing\",\"nope\"],\"require_all\":true}", NULL,
           "[{\"port\":\"false\",\"value\":{}}]");
    expect(f, HAS_CONS, "{\"consent_ids\":[],\"require_all\":true}", NULL,
           "[{\"port\":\"true\",\"value\":{}}]");
    expect(f, HAS_CONS, "{\"consent_ids\":[]}", NULL, "[{\"port\":\"false\",\"value\":{}}]");
    assert_int_equal(f->ctx.changed, 0);
    /* a revoke date that is not a date is corrupt data */
    expect_fail(f, HAS_CONS, "{\"consent_ids\":[\"broken\"]}", NULL,
                "corrupted data: profile@consents.broken.revoke is not a date");
    /* the request's time decides: after the revoke date the consent is gone */
    f->ctx.now_us = (int64_t)1893456000 * 1000000 + 1; /* 2030-01-01T00:00:00.000001Z */
    expect(f, HAS_CONS, "{\"consent_ids\":[\"future\"]}", NULL,
           "[{\"port\":\"false\",\"value\":{}}]");
    drop_profile(f);
    expect(f, HAS_CONS, "{\"consent_ids\":[\"marketing\"]}", NULL,
           "[{\"port\":\"false\",\"value\":{}}]");
    assert_log(f, "warning",
               "cannot check consents: the request has no profile (profile-less event)");
}

static void test_has_consents_config(void **state)
{
    struct fx *f = *state;
    expect_fail(f, HAS_CONS, "{\"consent_ids\":\"marketing\"}", NULL,
                "consent_ids: must be a list of consent types");
    expect_fail(f, HAS_CONS, "{\"consent_ids\":[\"a\",{}]}", NULL,
                "consent_ids: item 1 must be a consent type id");
    expect_fail(f, HAS_CONS, "{\"consent_ids\":[\"\"]}", NULL, "consent_ids: item 0");
    expect_fail(f, HAS_CONS, "{\"consent_ids\":[],\"require_all\":\"yes\"}", NULL,
                "require_all: must be true or false");
}

/* --- Merge profiles --- */

static void test_merge(void **state)
{
    struct fx *f = *state;
    expect(f, MERGE, "{\"mergeBy\":[\"profile@data.contact.email.main\"]}", "{\"m\":1}",
           "[{\"port\":\"payload\",\"value\":{\"m\":1}}]");
    assert_json(f->ctx.merge, "[\"profile@data.contact.email.main\"]");
    assert_at(f, "profile@operation.merge", "[\"profile@data.contact.email.main\"]");
    assert_int_equal(f->ctx.changed, CH_PROFILE);
    /* a second node adds its keys (not Tracardi's last-one-wins, #875) */
    expect(f, MERGE,
           "{\"mergeBy\":[\"profile@traits.customerId\",\"profile@data.contact.email.main\"]}",
           NULL, "[{\"port\":\"payload\",\"value\":{}}]");
    assert_json(f->ctx.merge,
                "[\"profile@data.contact.email.main\",\"profile@traits.customerId\"]");
    assert_at(f, "profile@operation.merge",
              "[\"profile@data.contact.email.main\",\"profile@traits.customerId\"]");
    drop_profile(f);
    expect(f, MERGE, "{\"mergeBy\":[\"profile@id\"]}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":\"cannot merge: the request has no "
           "profile (profile-less event)\"}}]");
    assert_json(f->ctx.merge,
                "[\"profile@data.contact.email.main\",\"profile@traits.customerId\"]");
}

static void test_merge_config(void **state)
{
    struct fx *f = *state;
    expect_fail(f, MERGE, "{}", NULL, "mergeBy: is empty and has no effect");
    expect_fail(f, MERGE, "{\"mergeBy\":[]}", NULL, "mergeBy: is empty");
    expect_fail(f, MERGE, "{\"mergeBy\":\"profile@id\"}", NULL,
                "mergeBy: must be a list of profile@ references");
    expect_fail(f, MERGE, "{\"mergeBy\":[\"profile@id\",1]}", NULL,
                "mergeBy: item 1 must be a profile@ reference");
    expect_fail(f, MERGE, "{\"mergeBy\":[\"event@properties.email\"]}", NULL,
                "mergeBy: 'event@properties.email' is not a profile@ reference");
    expect_fail(f, MERGE, "{\"mergeBy\":[\"profile@\"]}", NULL, "'profile@' is not a profile@");
    expect_fail(f, MERGE, "{\"mergeBy\":[\"email\"]}", NULL, "'email' is not a profile@");
    assert_null(f->ctx.merge);
}

/* --- Increase / Decrease interest --- */

static void test_interest(void **state)
{
    struct fx *f = *state;
    expect(f, INC_INT, "{\"interest\":\"shoes\",\"value\":\"1.5\"}", "{\"i\":1}",
           "[{\"port\":\"payload\",\"value\":{\"i\":1}}]");
    assert_at(f, "profile@interests.shoes", "3.5");
    assert_int_equal(f->ctx.changed, CH_PROFILE);
    expect(f, INC_INT, "{\"interest\":\"event@properties.interest\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@interests.tech", "1");
    expect(f, INC_INT, "{\"interest\":\"event@properties.interests\",\"value\":2}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@interests.a", "2");
    assert_at(f, "profile@interests.b", "2");
    expect(f, INC_INT, "{\"interest\":\"event@properties.pair\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@interests.a", "3");
    assert_at(f, "profile@interests.b", "3");
    expect(f, INC_INT, "{\"interest\":[\"c\",\"d-1\"]}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@interests.d-1", "1");
    /* one bad name in a list is skipped with an error log */
    expect(f, INC_INT, "{\"interest\":\"c,,d\"}", NULL, "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@interests.c", "2");
    assert_at(f, "profile@interests.d", "1");
    assert_log(f, "error", "invalid interest name '': use letters, digits, '-' and '_' only");
    /* a name with a space is refused as a whole (Tracardi checks the text first) */
    expect(f, INC_INT, "{\"interest\":\"c,x y\"}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":\"invalid interest name \\\"c,x "
           "y\\\": expected letters, digits, '-' and '_' without spaces\"}}]");
    assert_at(f, "profile@interests.c", "2");
    expect(f, DEC_INT, "{\"interest\":\"shoes\",\"value\":2}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@interests.shoes", "1.5");
    expect(f, DEC_INT, "{\"interest\":\"fresh\"}", NULL, "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@interests.fresh", "-1");
    /* interests created when the profile has none */
    cJSON_DeleteItemFromObject(f->ctx.profile, "interests");
    expect(f, INC_INT, "{\"interest\":\"z\"}", NULL, "[{\"port\":\"payload\",\"value\":{}}]");
    assert_at(f, "profile@interests", "{\"z\":1}");
}

static void test_interest_errors(void **state)
{
    struct fx *f = *state;
    expect(f, INC_INT, "{\"interest\":\"event@properties.badint\"}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":\"invalid interest name \\\"has "
           "space\\\": expected letters, digits, '-' and '_' without spaces\"}}]");
    expect(f, INC_INT, "{\"interest\":\"event@properties.num\"}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":\"invalid interest name 5: expected "
           "letters, digits, '-' and '_' without spaces\"}}]");
    expect(f, INC_INT, "{\"interest\":\"event@properties.nope\"}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":"
           "\"interest: event@properties.nope is missing\"}}]");
    expect(f, DEC_INT, "{\"interest\":\"bad\"}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":"
           "\"profile@interests.bad is not a number\"}}]");
    assert_int_equal(f->ctx.changed, 0);
    expect_fail(f, INC_INT, "{}", NULL, "interest: cannot be empty");
    expect_fail(f, INC_INT, "{\"interest\":\"\"}", NULL, "interest: cannot be empty");
    expect_fail(f, INC_INT, "{\"interest\":[]}", NULL, "interest: cannot be empty");
    expect_fail(f, INC_INT, "{\"interest\":5}", NULL, "interest: must be an interest name");
    expect_fail(f, INC_INT, "{\"interest\":[\"a\",2]}", NULL, "interest: item 1");
    expect_fail(f, INC_INT, "{\"interest\":\"a\",\"value\":\"abc\"}", NULL,
                "value: must be a number");
    expect_fail(f, DEC_INT, "{\"interest\":\"a\",\"value\":\"-1\"}", NULL,
                "value: must be a number, 0 or more");
    expect_fail(f, DEC_INT, "{\"interest\":\"a\",\"value\":true}", NULL, "value: must be a number");
    drop_profile(f);
    expect(f, DEC_INT, "{\"interest\":\"a\"}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":\"cannot change interests: the request "
           "has no profile (profile-less event)\"}}]");
}

/* --- UX --- */

static void test_snackbar(void **state)
{
    struct fx *f = *state;
    expect(f, SNACK, "{\"message\":\"Hi {{profile@traits.tier}}\"}", "{\"s\":1}",
           "[{\"port\":\"payload\",\"value\":{\"s\":1}}]");
    assert_json(f->ctx.ux, "[{\"tag\":\"div\",\"props\":{\"class\":\"tracardi-uix-snackbar\","
                           "\"data-type\":\"success\",\"data-message\":\"Hi gold\","
                           "\"data-vertical\":\"bottom\",\"data-horizontal\":\"center\","
                           "\"data-auto-hide\":\"6000\"}},"
                           "{\"tag\":\"script\",\"props\":{\"src\":"
                           "\"http://localhost:8686/uix/snackbar/index.js\"}}]");
    expect(f, SNACK,
           "{\"message\":\"Saved\",\"type\":\"error\",\"hide_after\":\"2500\","
           "\"position_x\":\"left\",\"position_y\":\"top\","
           "\"uix_mf_source\":\"https://cdn.example.com/\"}",
           NULL, "[{\"port\":\"payload\",\"value\":{}}]");
    assert_int_equal(cJSON_GetArraySize(f->ctx.ux), 4);
    assert_json(cJSON_GetArrayItem(f->ctx.ux, 2),
                "{\"tag\":\"div\",\"props\":{\"class\":\"tracardi-uix-snackbar\","
                "\"data-type\":\"error\",\"data-message\":\"Saved\","
                "\"data-vertical\":\"top\",\"data-horizontal\":\"left\","
                "\"data-auto-hide\":\"2500\"}}");
    assert_json(cJSON_GetArrayItem(f->ctx.ux, 3),
                "{\"tag\":\"script\",\"props\":{\"src\":"
                "\"https://cdn.example.com/uix/snackbar/index.js\"}}");
    assert_int_equal(f->ctx.changed, 0);
    /* no profile needed for a static message */
    drop_profile(f);
    expect(f, SNACK, "{\"message\":\"Hello\"}", NULL, "[{\"port\":\"payload\",\"value\":{}}]");
    expect_fail(f, SNACK, "{\"message\":\"Hi {{profile@traits.tier}}\"}", NULL, "message: ");
}

static void test_snackbar_config(void **state)
{
    struct fx *f = *state;
    expect_fail(f, SNACK, "{}", NULL, "message: is required");
    expect_fail(f, SNACK, "{\"message\":\"\"}", NULL, "message: is required");
    expect_fail(f, SNACK, "{\"message\":\"m\",\"type\":\"fatal\"}", NULL,
                "type: must be one of success, error, warning, info");
    expect_fail(f, SNACK, "{\"message\":\"m\",\"position_x\":\"middle\"}", NULL,
                "position_x: must be one of left, center, right");
    expect_fail(f, SNACK, "{\"message\":\"m\",\"position_y\":\"center\"}", NULL,
                "position_y: must be one of bottom, top");
    expect_fail(f, SNACK, "{\"message\":\"m\",\"hide_after\":\"soon\"}", NULL,
                "hide_after: must be a number");
    expect_fail(f, SNACK, "{\"message\":\"m\",\"hide_after\":1.5}", NULL,
                "hide_after: must be a whole number");
    expect_fail(f, SNACK, "{\"message\":\"m\",\"uix_mf_source\":\"ftp://x\"}", NULL,
                "uix_mf_source: must be an http:// or https:// URL");
    expect_fail(f, SNACK, "{\"message\":\"m {{profile@traits.nope}}\"}", NULL, "message: ");
    assert_null(f->ctx.ux);
}

static void test_ux_tag(void **state)
{
    struct fx *f = *state;
    f->ctx.ux = parse("[{\"tag\":\"p\"}]");
    expect(f, UX_TAG,
           "{\"tag\":\"div\",\"props\":{\"class\":\"x\",\"data-id\":\"profile@id\","
           "\"data-miss\":\"profile@nope\"},\"content\":\"Hello {{profile@traits.tier}}\"}",
           "{\"u\":1}", "[{\"port\":\"payload\",\"value\":{\"u\":1}}]");
    assert_json(f->ctx.ux, "[{\"tag\":\"p\"},{\"tag\":\"div\",\"props\":{\"class\":\"x\","
                           "\"data-id\":\"p1\",\"data-miss\":null},\"content\":\"Hello gold\"}]");
    cJSON_Delete(f->ctx.ux);
    f->ctx.ux = NULL;
    expect(f, UX_TAG, "{\"tag\":\"script\"}", NULL, "[{\"port\":\"payload\",\"value\":{}}]");
    assert_json(f->ctx.ux, "[{\"tag\":\"script\",\"props\":{},\"content\":\"\"}]");
    assert_int_equal(f->ctx.changed, 0);
    expect_fail(f, UX_TAG, "{\"tag\":\"div\",\"content\":\"{{profile@nope}}\"}", NULL, "content: ");
    expect_fail(f, UX_TAG, "{}", NULL, "tag: is required");
    expect_fail(f, UX_TAG, "{\"tag\":\"1x\"}", NULL, "tag: '1x' is not an HTML tag name");
    expect_fail(f, UX_TAG, "{\"tag\":\"di v\"}", NULL, "tag: 'di v' is not an HTML tag name");
    expect_fail(f, UX_TAG, "{\"tag\":\"div\",\"props\":[]}", NULL, "props: must be an object");
    expect_fail(f, UX_TAG, "{\"tag\":\"div\",\"content\":5}", NULL, "content: must be a string");
}

/* --- String properties --- */

static void test_string_properties(void **state)
{
    struct fx *f = *state;
    expect(f, STR_PROPS, "{\"string\":\"event@properties.text\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{\"capitalize\":\"Hello world\","
           "\"casefold\":\"hello world\",\"encode\":\"Hello World\",\"isalnum\":false,"
           "\"isalpha\":false,\"isascii\":true,\"isdecimal\":false,\"isdigit\":false,"
           "\"isidentifier\":false,\"islower\":false,\"isnumeric\":false,\"isprintable\":true,"
           "\"isspace\":false,\"istitle\":true,\"isupper\":false,\"lower\":\"hello world\","
           "\"lstrip\":\"Hello World\",\"swapcase\":\"hELLO wORLD\",\"title\":\"Hello World\","
           "\"upper\":\"HELLO WORLD\",\"rstrip\":\"Hello World\",\"strip\":\"Hello World\","
           "\"length\":11}}]");
    cJSON *out = NULL;
    assert_int_equal(run(f, STR_PROPS, "{\"string\":\" ab1 \\u00e9\\n\"}", NULL, &out), 0);
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetArrayItem(out, 0), "value");
    assert_string_equal(cdp_json_str(v, "strip"), "ab1 \xc3\xa9");
    assert_string_equal(cdp_json_str(v, "lstrip"), "ab1 \xc3\xa9\n");
    assert_string_equal(cdp_json_str(v, "rstrip"), " ab1 \xc3\xa9");
    assert_string_equal(cdp_json_str(v, "upper"), " AB1 \xc3\xa9\n");
    assert_int_equal(cJSON_GetObjectItem(v, "length")->valueint, 7);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(v, "isascii")));
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(v, "isprintable")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(v, "islower")));
    cJSON_Delete(out);
    assert_int_equal(run(f, STR_PROPS, "{\"string\":\"abc_1\"}", NULL, &out), 0);
    v = cJSON_GetObjectItem(cJSON_GetArrayItem(out, 0), "value");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(v, "isidentifier")));
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(v, "isalnum")));
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(v, "istitle")));
    cJSON_Delete(out);
    assert_int_equal(run(f, STR_PROPS, "{\"string\":\"2024\"}", NULL, &out), 0);
    v = cJSON_GetObjectItem(cJSON_GetArrayItem(out, 0), "value");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(v, "isdigit")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(v, "isalnum")));
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(v, "isupper")));
    cJSON_Delete(out);
    expect_fail(f, STR_PROPS, "{\"string\":\"event@properties.num\"}", NULL,
                "string: expected a string, got a number");
    expect_fail(f, STR_PROPS, "{\"string\":\"event@properties.nope\"}", NULL,
                "string: event@properties.nope is missing");
    expect_fail(f, STR_PROPS, "{}", NULL, "string: is required");
    expect_fail(f, STR_PROPS, "{\"string\":[]}", NULL, "string: must be a string");
    assert_int_equal(f->ctx.changed, 0);
}

/* --- String splitter / Join string list --- */

static void test_splitter(void **state)
{
    struct fx *f = *state;
    expect(f, SPLIT, "{\"string\":\"event@properties.csv\",\"delimiter\":\",\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{\"result\":[\"a\",\"b\",\"c\"]}}]");
    expect(f, SPLIT, "{\"string\":\"x.y.\",\"delimiter\":\".\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{\"result\":[\"x\",\"y\",\"\"]}}]");
    expect(f, SPLIT, "{\"string\":\"a--b\",\"delimiter\":\"--\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{\"result\":[\"a\",\"b\"]}}]");
    expect(f, SPLIT, "{\"string\":\"event@properties.text\",\"delimiter\":\",\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{\"result\":[\"Hello World\"]}}]");
    expect_fail(f, SPLIT, "{\"string\":\"event@properties.list\",\"delimiter\":\",\"}", NULL,
                "string: expected a string, got a list");
    expect_fail(f, SPLIT, "{\"delimiter\":\",\"}", NULL, "string: is required");
    expect_fail(f, SPLIT, "{\"string\":\"a\",\"delimiter\":\"\"}", NULL, "delimiter: is required");
    expect_fail(f, SPLIT, "{\"string\":\"a\"}", NULL, "delimiter: is required");
}

static void test_join(void **state)
{
    struct fx *f = *state;
    expect(f, JOIN, "{\"string\":\"event@properties.list\",\"delimiter\":\"-\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{\"result\":\"x-y-z\"}}]");
    expect(f, JOIN, "{\"string\":\"event@properties.list\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{\"result\":\"x,y,z\"}}]");
    expect(f, JOIN, "{\"string\":\"event@properties.list\",\"delimiter\":\"\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{\"result\":\"xyz\"}}]");
    expect(f, JOIN, "{\"string\":\"profile@segments\",\"delimiter\":\", \"}", NULL,
           "[{\"port\":\"payload\",\"value\":{\"result\":\"vip, old\"}}]");
    expect_fail(f, JOIN, "{\"string\":\"event@properties.mixed\"}", NULL,
                "string: item 1 of event@properties.mixed is not a string");
    expect_fail(f, JOIN, "{\"string\":\"event@properties.text\"}", NULL,
                "string: event@properties.text must be a list of strings");
    expect_fail(f, JOIN, "{\"string\":\"event@properties.nope\"}", NULL,
                "string: event@properties.nope is missing");
    expect_fail(f, JOIN, "{\"string\":\" \"}", NULL, "string: is required");
    expect_fail(f, JOIN, "{\"string\":\"payload@x\",\"delimiter\":5}", NULL,
                "delimiter: must be a string");
}

/* --- Regex match / replace --- */

static void test_regex_match(void **state)
{
    struct fx *f = *state;
    expect(f, RE_MATCH, "{\"pattern\":\"(\\\\w+) (\\\\w+)\",\"text\":\"event@properties.text\"}",
           NULL,
           "[{\"port\":\"payload\",\"value\":{\"Group-0\":\"Hello\",\"Group-1\":\"World\"}}]");
    expect(f, RE_MATCH, "{\"pattern\":\"(a)|(b)\",\"text\":\"xbx\",\"group_prefix\":\"g\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{\"g-0\":null,\"g-1\":\"b\"}}]");
    expect(f, RE_MATCH, "{\"pattern\":\"(?<year>\\\\d{4})-(\\\\d+)\",\"text\":\"on 2024-01\"}",
           NULL, "[{\"port\":\"payload\",\"value\":{\"Group-0\":\"2024\",\"Group-1\":\"01\"}}]");
    expect(f, RE_MATCH, "{\"pattern\":\"World\",\"text\":\"event@properties.text\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    expect(f, RE_MATCH, "{\"pattern\":\"(z+)\",\"text\":\"event@properties.text\"}", NULL,
           "[{\"port\":\"payload\",\"value\":{}}]");
    assert_log(f, "warning", "the pattern matched nothing in the text");
    /* catastrophic backtracking is cut off */
    expect_fail(f, RE_MATCH,
                "{\"pattern\":\"^(a+)+$\",\"text\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaab\"}", NULL,
                "pattern: the regular expression needs too much backtracking");
    expect_fail(f, RE_MATCH, "{\"pattern\":\"(a\",\"text\":\"x\"}", NULL,
                "pattern: invalid regular expression at offset 2");
    expect_fail(f, RE_MATCH, "{\"text\":\"x\"}", NULL, "pattern: is required");
    expect_fail(f, RE_MATCH, "{\"pattern\":\"a\"}", NULL, "text: is required");
    expect_fail(f, RE_MATCH, "{\"pattern\":\"a\",\"text\":\"x\",\"group_prefix\":1}", NULL,
                "group_prefix: must be a string");
    expect_fail(f, RE_MATCH, "{\"pattern\":\"a\",\"text\":\"event@properties.list\"}", NULL,
                "text: expected a string, got a list");
}

static void test_regex_replace(void **state)
{
    struct fx *f = *state;
    expect(f, RE_REPL,
           "{\"string\":\"event@properties.text\",\"replace_with\":\"\\\\2 \\\\1\","
           "\"find_regex\":\"(\\\\w+) (\\\\w+)\"}",
           "{\"in\":1}", "[{\"port\":\"replaced\",\"value\":{\"value\":\"World Hello\"}}]");
    expect(f, RE_REPL,
           "{\"string\":\"event@properties.text\",\"replace_with\":\"<\\\\g<0>>\","
           "\"find_regex\":\"o\"}",
           NULL, "[{\"port\":\"replaced\",\"value\":{\"value\":\"Hell<o> W<o>rld\"}}]");
    expect(f, RE_REPL,
           "{\"string\":\"event@properties.text\",\"replace_with\":\"$\",\"find_regex\":\"o\"}",
           NULL, "[{\"port\":\"replaced\",\"value\":{\"value\":\"Hell$ W$rld\"}}]");
    expect(f, RE_REPL,
           "{\"string\":\"a-b\",\"replace_with\":\"\\\\g<x>\\\\n\","
           "\"find_regex\":\"(?<x>[a-z])\"}",
           NULL, "[{\"port\":\"replaced\",\"value\":{\"value\":\"a\\n-b\\n\"}}]");
    expect(f, RE_REPL,
           "{\"string\":\"event@properties.text\",\"replace_with\":\"event@properties.interest\","
           "\"find_regex\":\"World\"}",
           NULL, "[{\"port\":\"replaced\",\"value\":{\"value\":\"Hello tech\"}}]");
    expect(f, RE_REPL,
           "{\"string\":\"event@properties.text\",\"replace_with\":\"\",\"find_regex\":\"l+\"}",
           NULL, "[{\"port\":\"replaced\",\"value\":{\"value\":\"Heo Word\"}}]");
    expect(f, RE_REPL,
           "{\"string\":\"event@properties.text\",\"replace_with\":\"x\",\"find_regex\":\"q\"}",
           NULL, "[{\"port\":\"not_found\",\"value\":{\"value\":\"Hello World\"}}]");
    expect_fail(f, RE_REPL,
                "{\"string\":\"abc\",\"replace_with\":\"\\\\g<1\",\"find_regex\":\"(b)\"}", NULL,
                "replace_with: bad group reference");
    expect_fail(f, RE_REPL,
                "{\"string\":\"abc\",\"replace_with\":\"\\\\3\",\"find_regex\":\"(b)\"}", NULL,
                "replace_with: ");
    expect_fail(f, RE_REPL,
                "{\"string\":\"event@properties.num\",\"replace_with\":\"x\",\"find_regex\":\"5\"}",
                NULL, "string: expected a string, got a number");
    expect_fail(f, RE_REPL,
                "{\"string\":\"abc\",\"replace_with\":\"event@properties.nope\","
                "\"find_regex\":\"b\"}",
                NULL, "replace_with: event@properties.nope is missing");
    expect_fail(f, RE_REPL, "{\"string\":\"abc\",\"replace_with\":\"x\"}", NULL,
                "find_regex: is required");
    expect_fail(f, RE_REPL, "{\"string\":\"abc\",\"replace_with\":\"x\",\"find_regex\":\"[\"}",
                NULL, "find_regex: invalid regular expression");
    expect_fail(f, RE_REPL, "{\"string\":\"abc\",\"find_regex\":\"b\"}", NULL,
                "replace_with: is required");
    expect_fail(f, RE_REPL, "{\"replace_with\":\"x\",\"find_regex\":\"b\"}", NULL,
                "string: is required");
}

/* --- Contains / Starts with / Ends with --- */

static void test_contains(void **state)
{
    struct fx *f = *state;
    expect(f, CONTAINS, "{\"field\":\"event@properties.text\",\"substring\":\"lo W\"}", "{\"a\":1}",
           "[{\"port\":\"true\",\"value\":{\"a\":1}}]");
    expect(f, CONTAINS, "{\"field\":\"event@properties.text\",\"substring\":\"world\"}", NULL,
           "[{\"port\":\"false\",\"value\":{}}]");
    expect(f, CONTAINS, "{\"field\":\"plain text\",\"substring\":\"text\"}", NULL,
           "[{\"port\":\"true\",\"value\":{}}]");
    expect_fail(f, CONTAINS, "{\"field\":\"event@properties.list\",\"substring\":\"x\"}", NULL,
                "field: expected a string, got a list");
    expect_fail(f, CONTAINS, "{\"field\":\"event@properties.nope\",\"substring\":\"x\"}", NULL,
                "field: event@properties.nope is missing");
    expect_fail(f, CONTAINS, "{\"field\":\"event@properties.text\",\"substring\":\"\"}", NULL,
                "substring: is required");
    expect_fail(f, CONTAINS, "{\"field\":null,\"substring\":\"x\"}", NULL, "field: is required");
}

static void test_starts_ends(void **state)
{
    struct fx *f = *state;
    expect(f, STARTS, "{\"field\":\"event@properties.text\",\"prefix\":\"Hell\"}", "{\"a\":1}",
           "[{\"port\":\"true\",\"value\":{\"a\":1}}]");
    expect(f, STARTS, "{\"field\":\"event@properties.text\",\"prefix\":\"World\"}", NULL,
           "[{\"port\":\"false\",\"value\":{}}]");
    expect(f, ENDS, "{\"field\":\"event@properties.text\",\"prefix\":\"World\"}", NULL,
           "[{\"port\":\"true\",\"value\":{}}]");
    expect(f, ENDS, "{\"field\":\"event@properties.text\",\"prefix\":\"Hello\"}", NULL,
           "[{\"port\":\"false\",\"value\":{}}]");
    expect(f, ENDS, "{\"field\":\"ab\",\"prefix\":\"xab\"}", NULL,
           "[{\"port\":\"false\",\"value\":{}}]");
    expect(f, STARTS, "{\"field\":\"event@properties.nope\",\"prefix\":\"x\"}", NULL,
           "[{\"port\":\"false\",\"value\":{}}]");
    assert_log(f, "warning", "field event@properties.nope does not exist");
    expect_fail(f, ENDS, "{\"field\":\"event@properties.num\",\"prefix\":\"5\"}", NULL,
                "field: expected a string, got a number");
    expect_fail(f, STARTS, "{\"field\":\"event@id\",\"prefix\":\"\"}", NULL, "prefix: is required");
    expect_fail(f, ENDS, "{\"prefix\":\"x\"}", NULL, "field: is required");
}

/* --- Today / Time difference / Date format --- */

static void test_today(void **state)
{
    struct fx *f = *state;
    const char *parts = "\"dayOfWeek\":\"thursday\",\"day\":18,\"month\":1,\"year\":2024,"
                        "\"week\":4,\"hour\":12,\"minute\":0,\"second\":0,\"ms\":0,"
                        "\"time\":\"12:00:00\",\"fold\":0,";
    char want[1024];
    snprintf(want, sizeof(want),
             "[{\"port\":\"payload\",\"value\":{\"utcTime\":\"2024-01-18T12:00:00\","
             "\"timestamp\":1705579200,\"server\":{%s\"iso\":\"2024-01-18T12:00:00\"},"
             "\"local\":{%s\"iso\":\"2024-01-18T12:00:00+00:00\"}}}]",
             parts, parts);
    expect(f, TODAY, "{\"timezone\":\"session@context.time.tz\"}", "{\"x\":1}", want);
    f->ctx.now_us += 5;
    cJSON *out = NULL;
    assert_int_equal(run(f, TODAY, "{\"timezone\":\"UTC\"}", NULL, &out), 0);
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetArrayItem(out, 0), "value");
    assert_string_equal(cdp_json_str(v, "server.time"), "12:00:00.000005");
    assert_string_equal(cdp_json_str(v, "local.iso"), "2024-01-18T12:00:00.000005+00:00");
    assert_int_equal(cJSON_GetObjectItem(cdp_json_get(v, "server"), "ms")->valueint, 5);
    cJSON_Delete(out);
    expect_fail(f, TODAY, "{}", NULL, "timezone: is required");
    expect_fail(f, TODAY, "{\"timezone\":\" UTC\"}", NULL,
                "timezone: must not start or end with a space");
    assert_int_equal(f->ctx.changed, 0);
}

static void test_time_difference(void **state)
{
    struct fx *f = *state;
    expect(f, TIME_DIFF, "{\"reference_date\":\"event@properties.date\",\"now\":\"now\"}", NULL,
           "[{\"port\":\"time_difference\",\"value\":{\"seconds\":86400,\"minutes\":1440,"
           "\"hours\":24,\"days\":1,\"weeks\":0.14285714285714285}}]");
    expect(f, TIME_DIFF, "{\"reference_date\":\"2024-01-18\",\"now\":\"2024-01-18T00:01:30Z\"}",
           NULL,
           "[{\"port\":\"time_difference\",\"value\":{\"seconds\":90,\"minutes\":1.5,"
           "\"hours\":0.025,\"days\":0.0010416666666666667,"
           "\"weeks\":0.00014880952380952382}}]");
    expect(f, TIME_DIFF, "{\"reference_date\":\"now\",\"now\":\"event@properties.date\"}", NULL,
           "[{\"port\":\"time_difference\",\"value\":{\"seconds\":-86400,\"minutes\":-1440,"
           "\"hours\":-24,\"days\":-1,\"weeks\":-0.14285714285714285}}]");
    expect_fail(f, TIME_DIFF, "{\"reference_date\":\"event@properties.bad_date\",\"now\":\"now\"}",
                NULL, "reference_date: could not parse date `\"yesterday\"`");
    expect_fail(f, TIME_DIFF, "{\"reference_date\":\"event@properties.nope\",\"now\":\"now\"}",
                NULL, "reference_date: event@properties.nope is missing");
    expect_fail(f, TIME_DIFF, "{\"reference_date\":\"now\",\"now\":\"event@properties.list\"}",
                NULL, "now: could not parse date");
    expect_fail(f, TIME_DIFF, "{\"now\":\"now\"}", NULL, "reference_date: is required");
    expect_fail(f, TIME_DIFF, "{\"reference_date\":\"yesterday\",\"now\":\"now\"}", NULL,
                "reference_date: 'yesterday' is neither a reference, now nor an ISO 8601 date");
    expect_fail(f, TIME_DIFF, "{\"reference_date\":\"now\",\"now\":\"\"}", NULL,
                "now: is required");
    expect_fail(f, TIME_DIFF, "{\"reference_date\":\"now\",\"now\":\"2024-13-01\"}", NULL,
                "now: '2024-13-01' is neither");
}

static void test_date_format(void **state)
{
    struct fx *f = *state;
    expect(f, DATE_FMT,
           "{\"date\":\"event@properties.date\","
           "\"format\":\"%Y/%m/%d %H:%M:%S.%f %a %A %b %j %y %z %Z %% %u %F\"}",
           NULL,
           "[{\"port\":\"payload\",\"value\":{\"result\":\"2024/01/17 12:00:00.000000 Wed "
           "Wednesday Jan 017 24 +0000 UTC % 3 2024-01-17\",\"timestamp\":1705492800}}]");
    expect(
        f, DATE_FMT, "{\"date\":\"now\",\"format\":\"%d.%m.%Y\"}", NULL,
        "[{\"port\":\"payload\",\"value\":{\"result\":\"18.01.2024\",\"timestamp\":1705579200}}]");
    expect(f, DATE_FMT, "{\"date\":\"event@properties.bad_date\",\"format\":\"%Y\"}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":"
           "\"date: could not parse date `\\\"yesterday\\\"`\"}}]");
    assert_log(f, "error", "date: could not parse date `\"yesterday\"`");
    expect(f, DATE_FMT, "{\"date\":\"event@properties.nope\",\"format\":\"%Y\"}", NULL,
           "[{\"port\":\"error\",\"value\":{\"message\":"
           "\"date: event@properties.nope is missing\"}}]");
    expect_fail(f, DATE_FMT, "{\"date\":\"now\",\"format\":\"%Q\"}", NULL,
                "format: unsupported conversion '%Q' at 0");
    expect_fail(f, DATE_FMT, "{\"date\":\"now\",\"format\":\"%Y %\"}", NULL,
                "format: unsupported conversion '%' at 3");
    expect_fail(f, DATE_FMT, "{\"format\":\"%Y\"}", NULL, "date: is required");
    expect_fail(f, DATE_FMT, "{\"date\":\"now\"}", NULL, "format: is required");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_registry),
        T(test_add_segment),
        T(test_add_segment_present),
        T(test_add_segment_refs),
        T(test_add_segment_errors),
        T(test_add_segment_config),
        T(test_delete_segment),
        T(test_move_segment),
        T(test_has_segment),
        T(test_cond_segment),
        T(test_cond_segment_config),
        T(test_add_consent),
        T(test_add_consent_auto_revoke),
        T(test_add_consent_errors),
        T(test_has_consents),
        T(test_has_consents_config),
        T(test_merge),
        T(test_merge_config),
        T(test_interest),
        T(test_interest_errors),
        T(test_snackbar),
        T(test_snackbar_config),
        T(test_ux_tag),
        T(test_string_properties),
        T(test_splitter),
        T(test_join),
        T(test_regex_match),
        T(test_regex_replace),
        T(test_contains),
        T(test_starts_ends),
        T(test_today),
        T(test_time_difference),
        T(test_date_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
