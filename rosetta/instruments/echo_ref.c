/* echo_ref: the reference echo server the echo benchmarks are measured against.

   usage: echo_ref [PORT [HOST]]        (defaults: 0, any free port; 127.0.0.1)

   One thread, epoll (level-triggered), non-blocking sockets, 64 KiB reads, the kernel's socket
   defaults: the least work an echo server can do per message, so a model's figure is stated
   as a fraction of what the machine allows.
   Once it listens it prints the project's listening line (`rosetta: listening on
   tcp://HOST:PORT (model=echo_ref, pid=N)`), so it starts like any model. Bytes a client does
   not read yet are kept, and that client is not read from again until they are sent: a slow
   reader never makes the server drop or block. SIGTERM and SIGINT end it with status 0. */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFFER_SIZE (64 * 1024)
#define MAX_EVENTS 256

struct pending { char *data; size_t length, offset; };

static volatile sig_atomic_t stopping;
static struct pending *pendings;  /* indexed by file descriptor */
static size_t pendings_size;

static void on_stop_signal(int signum) { (void)signum; stopping = 1; }

static int open_listener(const char *host, const char *port) {
    struct addrinfo hints = {0}, *found;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    int status = getaddrinfo(host, port, &hints, &found);
    if (status != 0) {
        fprintf(stderr, "echo_ref: %s port %s: %s\n", host, port, gai_strerror(status));
        return -1;
    }
    int listener = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int on = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (listener < 0 || bind(listener, found->ai_addr, found->ai_addrlen) < 0
        || listen(listener, 1024) < 0) {
        fprintf(stderr, "echo_ref: cannot listen on %s port %s: %s\n", host, port,
                strerror(errno));
        freeaddrinfo(found);
        return -1;
    }
    freeaddrinfo(found);
    return listener;
}

static void print_listening_line(int listener) {
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    getsockname(listener, (struct sockaddr *)&address, &length);
    if (address.ss_family == AF_INET6) {
        struct sockaddr_in6 *six = (struct sockaddr_in6 *)&address;
        inet_ntop(AF_INET6, &six->sin6_addr, host, sizeof host);
        port = ntohs(six->sin6_port);
        printf("rosetta: listening on tcp://[%s]:%d (model=echo_ref, pid=%d)\n", host, port,
               (int)getpid());
    } else {
        struct sockaddr_in *four = (struct sockaddr_in *)&address;
        inet_ntop(AF_INET, &four->sin_addr, host, sizeof host);
        port = ntohs(four->sin_port);
        printf("rosetta: listening on tcp://%s:%d (model=echo_ref, pid=%d)\n", host, port,
               (int)getpid());
    }
    fflush(stdout);
}

static struct pending *pending_of(int fd) {
    if ((size_t)fd >= pendings_size) {
        size_t size = pendings_size ? pendings_size : 1024;
        while (size <= (size_t)fd) size *= 2;
        pendings = realloc(pendings, size * sizeof *pendings);
        memset(pendings + pendings_size, 0, (size - pendings_size) * sizeof *pendings);
        pendings_size = size;
    }
    return &pendings[fd];
}

static void close_client(int epoll_fd, int fd) {
    struct pending *left = pending_of(fd);
    free(left->data);
    memset(left, 0, sizeof *left);
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
}

static void watch(int epoll_fd, int fd, unsigned events, int operation) {
    struct epoll_event event = {.events = events, .data.fd = fd};
    epoll_ctl(epoll_fd, operation, fd, &event);
}

/* As much of `data` as the socket takes now: the count sent, or -1 if the client is gone. */
static ssize_t send_some(int fd, const char *data, size_t length) {
    size_t sent = 0;
    while (sent < length) {
        ssize_t done = send(fd, data + sent, length - sent, MSG_NOSIGNAL);
        if (done > 0) sent += (size_t)done;
        else if (done < 0 && errno == EINTR) continue;
        else if (done < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        else return -1;
    }
    return (ssize_t)sent;
}

static void on_readable(int epoll_fd, int fd, char *buffer, size_t size) {
    ssize_t received = recv(fd, buffer, size, 0);
    if (received < 0 && (errno == EAGAIN || errno == EINTR)) return;
    ssize_t sent = received > 0 ? send_some(fd, buffer, (size_t)received) : -1;
    if (sent < 0) { close_client(epoll_fd, fd); return; }
    if (sent < received) {
        struct pending *left = pending_of(fd);
        left->length = (size_t)(received - sent);
        left->data = malloc(left->length);
        memcpy(left->data, buffer + sent, left->length);
        left->offset = 0;
        watch(epoll_fd, fd, EPOLLOUT, EPOLL_CTL_MOD);
    }
}

static void on_writable(int epoll_fd, int fd) {
    struct pending *left = pending_of(fd);
    ssize_t sent = send_some(fd, left->data + left->offset, left->length - left->offset);
    if (sent < 0) { close_client(epoll_fd, fd); return; }
    left->offset += (size_t)sent;
    if (left->offset == left->length) {
        free(left->data);
        memset(left, 0, sizeof *left);
        watch(epoll_fd, fd, EPOLLIN, EPOLL_CTL_MOD);
    }
}

int main(int argc, char **argv) {
    const char *port = argc > 1 ? argv[1] : "0";
    const char *host = argc > 2 ? argv[2] : "127.0.0.1";
    struct sigaction stop = {.sa_handler = on_stop_signal};
    sigaction(SIGTERM, &stop, NULL);
    sigaction(SIGINT, &stop, NULL);

    int listener = open_listener(host, port);
    if (listener < 0) return 2;
    int epoll_fd = epoll_create1(0);
    watch(epoll_fd, listener, EPOLLIN, EPOLL_CTL_ADD);
    print_listening_line(listener);

    static char buffer[BUFFER_SIZE];
    struct epoll_event events[MAX_EVENTS];
    while (!stopping) {
        int ready = epoll_wait(epoll_fd, events, MAX_EVENTS, -1);
        for (int i = 0; i < ready; i++) {
            int fd = events[i].data.fd;
            if (fd == listener) {
                int client;
                while ((client = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0)
                    watch(epoll_fd, client, EPOLLIN, EPOLL_CTL_ADD);
                continue;
            }
            if (events[i].events & EPOLLOUT) on_writable(epoll_fd, fd);
            else on_readable(epoll_fd, fd, buffer, sizeof buffer);
        }
    }
    return 0;
}
