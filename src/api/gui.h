/* The GUI's built files (gui/dist), compiled into the binary by gui/embed.py, and the handler
 * that serves them on the management listener. */
#ifndef CDP_API_GUI_H
#define CDP_API_GUI_H

#include <stddef.h>

struct cdp_http_req;

struct cdp_gui_file {
    const char *path; /* "/index.html", "/assets/index-3f2a.js" */
    const char *ctype;
    const unsigned char *data;
    size_t len;
    const unsigned char *gz; /* gzip of data, or NULL when that saves little */
    size_t gzlen;
};

extern const struct cdp_gui_file cdp_gui_files[];
extern const unsigned cdp_gui_nfiles;

/* GET / : the GUI to a browser (Accept: text/html), the version JSON to anything else. */
void cdp_api_root(struct cdp_http_req *req, void *app);
/* The listener's fallback for a GET no route matched: a file of the GUI, or 404. */
void cdp_api_gui(struct cdp_http_req *req, void *app);

#endif
