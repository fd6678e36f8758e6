/* JSON Schema validation (being written). */
#ifndef CDP_MODEL_JSONSCHEMA_H
#define CDP_MODEL_JSONSCHEMA_H
#endif
