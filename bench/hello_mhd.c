/* hello_mhd: a bare libmicrohttpd server, the "bare HTTP" reference for bench/run.sh.
 *
 * Same daemon flags as cdpd's collector (src/http/http.c): one internal epoll thread,
 * MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, and the same
 * connection timeout / limit / backlog options. Every request's body is read (and counted,
 * nothing else) and answered 200 with a small JSON object. Any method, any path.
 *
 *   hello_mhd PORT          listens on 127.0.0.1:PORT only; stops on SIGTERM or SIGINT
 *
 * Build: gcc -O2 -Wall -o bench/bin/hello_mhd bench/hello_mhd.c -lmicrohttpd
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if MHD_VERSION < 0x00097002
typedef int MHD_Result;
#else
typedef enum MHD_Result MHD_Result;
#endif

static const char reply[] = "{\"ok\":true}";
static struct MHD_Response *ok_response; /* shared, never destroyed until exit */

struct req {
    size_t body_bytes;
};

static MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                             const char *method, const char *version, const char *upload_data,
                             size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    struct req *r = *con_cls;
    if (!r) {
        /* first call: headers only; allocate per-request state like a real handler would */
        r = calloc(1, sizeof(*r));
        if (!r)
            return MHD_NO;
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* "read" the body: touch every byte so the data is really consumed */
        size_t n = *upload_data_size;
        volatile unsigned char sink = 0;
        for (size_t i = 0; i < n; i += 64)
            sink ^= (unsigned char)upload_data[i];
        (void)sink;
        r->body_bytes += n;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(c, MHD_HTTP_OK, ok_response);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "bad port '%s'\n", argv[1]);
        return 2;
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    /* block before MHD starts its thread so the signals are only taken by sigwait below */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    ok_response =
        MHD_create_response_from_buffer(sizeof(reply) - 1, (void *)reply, MHD_RESPMEM_PERSISTENT);
    if (!ok_response)
        return 1;
    MHD_add_response_header(ok_response, "Content-Type", "application/json");

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)60, MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096, MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)1024, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "hello_mhd: cannot listen on 127.0.0.1:%d\n", port);
        return 1;
    }
    printf("hello_mhd listening on http://127.0.0.1:%d (libmicrohttpd %s)\n", port,
           MHD_get_version());
    fflush(stdout);

    int sig = 0;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(ok_response);
    return 0;
}
