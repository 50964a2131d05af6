/* echo_load: a closed-loop echo load generator.

   usage: echo_load HOST PORT CONNECTIONS MESSAGE_BYTES SECONDS

   Opens CONNECTIONS connections; on each, sends one message of MESSAGE_BYTES, waits until all
   of it came back, checks it byte for byte, and sends the next, for SECONDS. Written in C and
   driven by one epoll loop, so the load generator is never what limits the figure. Prints one
   line: `REQUESTS reqs/s MIB MiB/s errors=N`, where an error is a connection closed or reset
   by the server or an answer that is not the message. Exit status 1 if a connection cannot be
   opened, 2 for bad arguments. */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RECEIVE_SIZE (256 * 1024)
#define MAX_EVENTS 256

struct connection { int fd; size_t sent, received; };

static char *message;
static size_t message_size;
static long errors;

static double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void watch(int epoll_fd, struct connection *conn, int operation) {
    unsigned events = EPOLLIN | (conn->sent < message_size ? EPOLLOUT : 0);
    struct epoll_event event = {.events = events, .data.ptr = conn};
    epoll_ctl(epoll_fd, operation, conn->fd, &event);
}

static void drop(int epoll_fd, struct connection *conn) {
    errors++;
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, conn->fd, NULL);
    close(conn->fd);
    conn->fd = -1;
}

/* Send more of the message; 0 if the connection broke. */
static int send_more(struct connection *conn) {
    while (conn->sent < message_size) {
        ssize_t done = send(conn->fd, message + conn->sent, message_size - conn->sent,
                            MSG_NOSIGNAL);
        if (done > 0) conn->sent += (size_t)done;
        else if (done < 0 && errno == EINTR) continue;
        else return done < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    return 1;
}

/* Read what came back; counts finished round trips into *requests. 0 if the connection broke
   or the echo is wrong. */
static int receive_echo(struct connection *conn, char *buffer, long *requests) {
    for (;;) {
        ssize_t got = recv(conn->fd, buffer, RECEIVE_SIZE, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
        if (got == 0) return 0;
        size_t length = (size_t)got;
        if (conn->received + length > conn->sent
            || memcmp(buffer, message + conn->received, length) != 0)
            return 0;
        conn->received += length;
        if (conn->received == message_size) {
            ++*requests;
            conn->sent = conn->received = 0;
            if (!send_more(conn)) return 0;
        }
    }
}

static int open_connection(const struct addrinfo *address) {
    int fd = socket(address->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, address->ai_addr, address->ai_addrlen) < 0) return -1;
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return -1;
    return fd;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s HOST PORT CONNECTIONS MESSAGE_BYTES SECONDS\n", argv[0]);
        return 2;
    }
    int count = atoi(argv[3]);
    long size = atol(argv[4]);
    double seconds = atof(argv[5]);
    if (count < 1 || size < 1 || !(seconds > 0)) {
        fprintf(stderr, "echo_load: CONNECTIONS, MESSAGE_BYTES and SECONDS must be positive\n");
        return 2;
    }
    struct addrinfo hints = {0}, *address;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    int status = getaddrinfo(argv[1], argv[2], &hints, &address);
    if (status != 0) {
        fprintf(stderr, "echo_load: %s port %s: %s\n", argv[1], argv[2], gai_strerror(status));
        return 2;
    }

    message_size = (size_t)size;
    message = malloc(message_size);
    for (size_t i = 0; i < message_size; i++) message[i] = (char)('a' + i % 26);
    char *buffer = malloc(RECEIVE_SIZE);
    struct connection *conns = calloc((size_t)count, sizeof *conns);
    int epoll_fd = epoll_create1(0);
    for (int i = 0; i < count; i++) {
        conns[i].fd = open_connection(address);
        if (conns[i].fd < 0) {
            fprintf(stderr, "echo_load: cannot connect to %s port %s: %s\n", argv[1], argv[2],
                    strerror(errno));
            return 1;
        }
        watch(epoll_fd, &conns[i], EPOLL_CTL_ADD);
    }
    freeaddrinfo(address);

    long requests = 0;
    struct epoll_event events[MAX_EVENTS];
    double start = seconds_now(), end = start + seconds, now = start;
    while ((now = seconds_now()) < end) {
        int wait_ms = (int)((end - now) * 1000) + 1;
        int ready = epoll_wait(epoll_fd, events, MAX_EVENTS, wait_ms < 100 ? wait_ms : 100);
        for (int i = 0; i < ready; i++) {
            struct connection *conn = events[i].data.ptr;
            if (conn->fd < 0) continue;
            int alive = 1;
            if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                alive = receive_echo(conn, buffer, &requests);
            if (alive && (events[i].events & EPOLLOUT)) alive = send_more(conn);
            if (!alive) drop(epoll_fd, conn);
            else watch(epoll_fd, conn, EPOLL_CTL_MOD);
        }
    }
    double elapsed = seconds_now() - start;
    printf("%.0f reqs/s %.1f MiB/s errors=%ld\n", (double)requests / elapsed,
           (double)requests * (double)message_size / elapsed / 1048576.0, errors);
    return 0;
}
