// Bounded whole-file reading with transparent gunzip, for the dataset and checkpoint readers.
//
// cs_read_file_bounded reads a regular file (symbolic links followed) and, when asked and the file
// starts with the gzip magic 1f 8b, inflates it with a hand-driven z_stream (not gzread), so that
// every failure is reported instead of silently returning short data. It produces at most max_len
// bytes: every caller knows from the header and the format how large the content must be, so a
// lying header, a gzip bomb or a file that grows cost at most max_len bytes of memory. The
// compressed input is streamed in 64 KiB chunks, never held whole. *longer says whether the content
// goes on past max_len; the rest is then neither read nor checked.
//
// Errors (every message starts with the path):
//   * not a regular file: a directory, a device, a FIFO, a socket, a dangling symbolic link or a
//     symbolic link loop, each named as such (a FIFO or /dev/zero would otherwise block or never end)
//   * input that ends before the end of a gzip member (truncated download)  → "truncated gzip stream"
//   * a bad deflate block, CRC-32 or length trailer                         → "corrupt gzip stream"
//   * bytes after the last member that are neither another member nor zero padding → "trailing data"
// Concatenated members (gzip's multi-member format) are inflated one after another, as gunzip does.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "csupport.h"

enum { CHUNK = 1 << 16 };

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (err == NULL || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const char *kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

// Explains why `path` could not be opened (errno `e`): what the path really is where that is the reason.
static void explain_open_failure(const char *path, int e, char *err, size_t errlen) {
    struct stat st;
    if (e == ELOOP) {
        set_err(err, errlen, "%s: is a symbolic link loop (too many levels of symbolic links), expected a regular file",
                path);
        return;
    }
    if (e == ENOENT && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        set_err(err, errlen, "%s: is a dangling symbolic link to '%s' (its target does not exist), expected a regular file",
                path, target);
        return;
    }
    if (e != ENOENT && stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {  // e.g. ENXIO for a socket
        set_err(err, errlen, "%s: is %s, expected a regular file", path, kind_of(st.st_mode));
        return;
    }
    set_err(err, errlen, "%s: cannot open: %s", path, strerror(e));
}

// Opens `path` for reading if it is a regular file (without blocking on a FIFO); -1 and a message otherwise.
static int open_regular(const char *path, off_t *size, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        explain_open_failure(path, errno, err, errlen);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        set_err(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        set_err(err, errlen, "%s: is %s, expected a regular file", path, kind_of(st.st_mode));
        close(fd);
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    *size = st.st_size;
    return fd;
}

// Reads up to `want` bytes (fewer only at end of file); -1 on error with a message.
static ssize_t read_full(int fd, const char *path, uint8_t *buf, size_t want, size_t offset, char *err,
                         size_t errlen) {
    size_t got = 0;
    while (got < want) {
        ssize_t r = read(fd, buf + got, want - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            set_err(err, errlen, "%s: read error after %zu bytes: %s", path, offset + got, strerror(errno));
            return -1;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

// Output buffer that grows by doubling up to a hard limit.
typedef struct {
    uint8_t *data;
    size_t len, cap, limit;
} outbuf;

static int out_reserve(outbuf *o, size_t want, const char *path, char *err, size_t errlen) {
    if (want > o->limit) want = o->limit;
    if (want <= o->cap) return 0;
    size_t ncap = o->cap > 0 ? o->cap : 1;
    while (ncap < want) ncap = ncap > o->limit / 2 ? o->limit : ncap * 2;
    uint8_t *nb = realloc(o->data, ncap);
    if (nb == NULL) {
        set_err(err, errlen, "%s: out of memory allocating %zu bytes", path, ncap);
        return -1;
    }
    o->data = nb;
    o->cap = ncap;
    return 0;
}

static int all_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0) return 0;
    return 1;
}

// The raw bytes: `first` (already read) then the rest of the file, up to o->limit.
static int read_plain(int fd, const char *path, const uint8_t *first, size_t first_len, off_t size, outbuf *o,
                      int *longer, char *err, size_t errlen) {
    size_t hint = size > 0 ? (size_t)size : first_len;
    if (out_reserve(o, hint > 0 ? hint : 1, path, err, errlen) != 0) return -1;
    size_t take = first_len < o->limit ? first_len : o->limit;
    if (take > 0) memcpy(o->data, first, take);
    o->len = take;
    if (take < first_len) {
        *longer = 1;
        return 0;
    }
    for (;;) {
        if (o->len == o->limit) {  // full: is there one byte more?
            uint8_t probe;
            ssize_t r = read_full(fd, path, &probe, 1, o->len, err, errlen);
            if (r < 0) return -1;
            *longer = r > 0;
            return 0;
        }
        if (o->len == o->cap && out_reserve(o, o->cap * 2, path, err, errlen) != 0) return -1;  // it grew
        ssize_t r = read_full(fd, path, o->data + o->len, o->cap - o->len, o->len, err, errlen);
        if (r < 0) return -1;
        o->len += (size_t)r;
        if (o->len < o->cap) return 0;  // end of file
    }
}

// Inflates the gzip members of the file, `in[0, *in_len)` holding its first bytes, into `o`.
static int read_gzip(int fd, const char *path, uint8_t *in, size_t in_len, off_t size, outbuf *o, int *longer,
                     char *err, size_t errlen) {
    size_t hint = size > 0 && (size_t)size < (SIZE_MAX >> 3) ? 4 * (size_t)size : CHUNK;
    if (out_reserve(o, hint > CHUNK ? hint : CHUNK, path, err, errlen) != 0) return -1;
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) {  // 16+: gzip wrapper only
        set_err(err, errlen, "%s: inflateInit2 failed", path);
        return -1;
    }
    s.next_in = in;
    s.avail_in = (uInt)in_len;
    size_t total_in = in_len;  // compressed bytes read from the file so far
    int eof = 0, members = 0, status = -1;
    uint8_t probe;
    for (;;) {
        if (s.avail_in == 0 && !eof) {
            ssize_t r = read_full(fd, path, in, CHUNK, total_in, err, errlen);
            if (r < 0) break;
            if (r == 0) eof = 1;
            s.next_in = in;
            s.avail_in = (uInt)r;
            total_in += (size_t)r;
        }
        int probing = o->len == o->limit;  // full: would inflate produce one byte more?
        if (!probing && o->len == o->cap && out_reserve(o, o->cap * 2, path, err, errlen) != 0) break;
        size_t room = probing ? 1 : o->cap - o->len;
        if (room > UINT_MAX) room = UINT_MAX;
        s.next_out = probing ? &probe : o->data + o->len;
        s.avail_out = (uInt)room;
        int rc = inflate(&s, Z_NO_FLUSH);
        size_t produced = room - s.avail_out;
        if (probing && produced > 0) {
            *longer = 1;
            status = 0;
            break;
        }
        if (!probing) o->len += produced;
        size_t consumed = total_in - s.avail_in;  // offset of the next unread compressed byte
        if (rc == Z_STREAM_END) {
            members++;
            // What follows: another member, zero padding (accepted by gunzip too), or the end.
            if (s.avail_in < 2 && !eof) {
                memmove(in, s.next_in, s.avail_in);
                ssize_t r = read_full(fd, path, in + s.avail_in, CHUNK - s.avail_in, total_in, err, errlen);
                if (r < 0) break;
                if ((size_t)r < CHUNK - s.avail_in) eof = 1;
                s.next_in = in;
                s.avail_in += (uInt)r;
                total_in += (size_t)r;
            }
            if (s.avail_in == 0 && eof) {
                status = 0;
                break;
            }
            if (s.avail_in >= 2 && s.next_in[0] == 0x1f && s.next_in[1] == 0x8b) {  // next member
                inflateReset(&s);
                continue;
            }
            size_t rest_start = consumed;
            int zero = all_zero(s.next_in, s.avail_in);
            while (zero && !eof) {
                ssize_t r = read_full(fd, path, in, CHUNK, total_in, err, errlen);
                if (r < 0) {
                    zero = -1;
                    break;
                }
                if (r < CHUNK) eof = 1;
                total_in += (size_t)r;
                zero = all_zero(in, (size_t)r);
            }
            if (zero < 0) break;
            if (zero) {
                status = 0;
                break;
            }
            set_err(err, errlen,
                    "%s: corrupt gzip stream: trailing data after gzip member %d (at compressed byte %zu), "
                    "expected end of file or another gzip member",
                    path, members, rest_start);
            break;
        }
        if (rc == Z_OK) continue;
        if (rc == Z_BUF_ERROR) {
            if (s.avail_in == 0 && eof) {
                set_err(err, errlen,
                        "%s: truncated gzip stream: the file ends after %zu compressed bytes "
                        "(%zu bytes decompressed) before the end of gzip member %d; expected a "
                        "complete gzip file (incomplete download?)",
                        path, total_in, o->len, members + 1);
                break;
            }
            if (s.avail_in == 0 || s.avail_out == 0) continue;  // read more, or grow
            set_err(err, errlen, "%s: gzip inflate made no progress at compressed byte %zu", path, consumed);
            break;
        }
        if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
            set_err(err, errlen,
                    "%s: corrupt gzip stream (zlib: %s) near compressed byte %zu, after %zu decompressed bytes",
                    path, s.msg != NULL ? s.msg : "invalid data", consumed, o->len);
            break;
        }
        if (rc == Z_MEM_ERROR) {
            set_err(err, errlen, "%s: out of memory while inflating", path);
            break;
        }
        set_err(err, errlen, "%s: inflate failed with zlib error %d (%s)", path, rc, s.msg != NULL ? s.msg : "no message");
        break;
    }
    inflateEnd(&s);
    return status;
}

int cs_read_file_bounded(const char *path, size_t max_len, int gunzip, uint8_t **data, size_t *len, int *longer,
                         char *err, size_t errlen) {
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (data == NULL || len == NULL || longer == NULL) {
        set_err(err, errlen, "cs_read_file_bounded: data, len and longer must not be NULL");
        return -1;
    }
    *data = NULL;
    *len = 0;
    *longer = 0;
    if (path == NULL) {
        set_err(err, errlen, "cs_read_file_bounded: path is NULL");
        return -1;
    }
    off_t size = 0;
    int fd = open_regular(path, &size, err, errlen);
    if (fd < 0) return -1;
    uint8_t *in = malloc(CHUNK);
    outbuf o = {NULL, 0, 0, max_len};
    int rc = -1;
    if (in == NULL) {
        set_err(err, errlen, "%s: out of memory allocating %d bytes", path, CHUNK);
    } else {
        ssize_t first = read_full(fd, path, in, CHUNK, 0, err, errlen);
        if (first >= 0) {
            int is_gzip = gunzip && first >= 2 && in[0] == 0x1f && in[1] == 0x8b;
            rc = is_gzip ? read_gzip(fd, path, in, (size_t)first, size, &o, longer, err, errlen)
                         : read_plain(fd, path, in, (size_t)first, size, &o, longer, err, errlen);
        }
    }
    free(in);
    close(fd);
    if (rc != 0) {
        free(o.data);
        *longer = 0;
        return -1;
    }
    if (o.data == NULL) o.data = malloc(1);  // callers get a valid pointer for empty content
    else if (o.len + CHUNK < o.cap) {        // give back a large over-allocation
        uint8_t *nb = realloc(o.data, o.len > 0 ? o.len : 1);
        if (nb != NULL) o.data = nb;
    }
    if (o.data == NULL) {
        set_err(err, errlen, "%s: out of memory", path);
        return -1;
    }
    *data = o.data;
    *len = o.len;
    return 0;
}

void cs_free(void *p) { free(p); }
