// Whole-file reading with transparent gunzip, for the dataset loaders.
//
// cs_read_file_maybe_gzip reads the file into memory; when it starts with the gzip magic 1f 8b it
// is inflated with a hand-driven z_stream (not gzread), so that every failure is reported instead
// of silently returning short data:
//   * input that ends before the end of a gzip member (truncated download)  → "truncated gzip stream"
//   * a bad deflate block, CRC-32 or length trailer                         → "corrupt gzip stream"
//   * bytes after the last member that are neither another member nor zero padding → "trailing data"
// Concatenated members (gzip's multi-member format) are inflated one after another, as gunzip does.
// Every message starts with the path.
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

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (err == NULL || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

// Reads the raw bytes of `path` into a malloc'd buffer (at least 1 byte allocated).
static int read_raw(const char *path, uint8_t **data, size_t *len, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        set_err(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        set_err(err, errlen, "%s: is a directory, expected a file", path);
        close(fd);
        return -1;
    }
    size_t cap = (S_ISREG(st.st_mode) && st.st_size > 0) ? (size_t)st.st_size + 1 : 1 << 16;
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        set_err(err, errlen, "%s: out of memory allocating %zu bytes", path, cap);
        close(fd);
        return -1;
    }
    size_t n = 0;
    for (;;) {
        if (n == cap) {  // the file grew, or is not a regular file
            size_t ncap = cap * 2;
            uint8_t *nb = realloc(buf, ncap);
            if (nb == NULL) {
                set_err(err, errlen, "%s: out of memory growing the buffer to %zu bytes", path, ncap);
                free(buf);
                close(fd);
                return -1;
            }
            buf = nb;
            cap = ncap;
        }
        size_t want = cap - n;
        if (want > (size_t)1 << 30) want = (size_t)1 << 30;
        ssize_t r = read(fd, buf + n, want);
        if (r < 0) {
            if (errno == EINTR) continue;
            set_err(err, errlen, "%s: read error after %zu bytes: %s", path, n, strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    *data = buf;
    *len = n;
    return 0;
}

static int all_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0) return 0;
    return 1;
}

// Inflates the gzip stream in[0, n) into a new malloc'd buffer.
static int gunzip(const char *path, const uint8_t *in, size_t n, uint8_t **data, size_t *len,
                  char *err, size_t errlen) {
    // Initial capacity from the ISIZE trailer (uncompressed size mod 2³²), trusted only when it is
    // plausible: a truncated file ends in arbitrary bytes.
    size_t isize = (size_t)in[n - 4] | (size_t)in[n - 3] << 8 | (size_t)in[n - 2] << 16 |
                   (size_t)in[n - 1] << 24;
    size_t cap = (n >= 18 && isize > 0 && isize <= 64 * n + ((size_t)1 << 20)) ? isize
                                                                                : 4 * n + (1 << 16);
    uint8_t *out = malloc(cap);
    if (out == NULL) {
        set_err(err, errlen, "%s: out of memory allocating %zu bytes", path, cap);
        return -1;
    }
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) {  // 16+: gzip wrapper only
        set_err(err, errlen, "%s: inflateInit2 failed", path);
        free(out);
        return -1;
    }
    const size_t step = (size_t)1 << 30;  // avail_in/avail_out are 32-bit
    size_t in_pos = 0, out_len = 0;
    int members = 0;
    int status = -1;
    for (;;) {
        if (s.avail_in == 0 && in_pos < n) {
            size_t chunk = n - in_pos < step ? n - in_pos : step;
            s.next_in = (Bytef *)(in + in_pos);
            s.avail_in = (uInt)chunk;
            in_pos += chunk;
        }
        if (out_len == cap) {
            size_t ncap = cap * 2;
            uint8_t *nb = realloc(out, ncap);
            if (nb == NULL) {
                set_err(err, errlen, "%s: out of memory growing the output to %zu bytes", path, ncap);
                break;
            }
            out = nb;
            cap = ncap;
        }
        size_t room = cap - out_len < step ? cap - out_len : step;
        s.next_out = out + out_len;
        s.avail_out = (uInt)room;
        int rc = inflate(&s, Z_NO_FLUSH);
        out_len += room - s.avail_out;
        size_t consumed = in_pos - s.avail_in;  // offset of the next unread compressed byte
        if (rc == Z_STREAM_END) {
            members++;
            if (consumed == n) {
                status = 0;
                break;
            }
            const uint8_t *rest = in + consumed;
            size_t rest_len = n - consumed;
            if (rest_len >= 2 && rest[0] == 0x1f && rest[1] == 0x8b) {  // next member
                inflateReset(&s);
                continue;
            }
            if (all_zero(rest, rest_len)) {  // zero padding, accepted by gunzip too
                status = 0;
                break;
            }
            set_err(err, errlen,
                    "%s: corrupt gzip stream: %zu bytes of trailing data after gzip member %d "
                    "(at compressed byte %zu of %zu), expected end of file or another gzip member",
                    path, rest_len, members, consumed, n);
            break;
        }
        if (rc == Z_OK) continue;
        if (rc == Z_BUF_ERROR) {
            if (s.avail_in == 0 && in_pos == n) {
                set_err(err, errlen,
                        "%s: truncated gzip stream: the file ends after %zu compressed bytes "
                        "(%zu bytes decompressed) before the end of gzip member %d; expected a "
                        "complete gzip file (incomplete download?)",
                        path, n, out_len, members + 1);
                break;
            }
            if (s.avail_out == 0) continue;  // output full: grow and go on
            set_err(err, errlen, "%s: gzip inflate made no progress at compressed byte %zu", path,
                    consumed);
            break;
        }
        if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
            set_err(err, errlen,
                    "%s: corrupt gzip stream (zlib: %s) near compressed byte %zu of %zu, after "
                    "%zu decompressed bytes",
                    path, s.msg != NULL ? s.msg : "invalid data", consumed, n, out_len);
            break;
        }
        if (rc == Z_MEM_ERROR) {
            set_err(err, errlen, "%s: out of memory while inflating", path);
            break;
        }
        set_err(err, errlen, "%s: inflate failed with zlib error %d (%s)", path, rc,
                s.msg != NULL ? s.msg : "no message");
        break;
    }
    inflateEnd(&s);
    if (status != 0) {
        free(out);
        return -1;
    }
    if (out_len + (1 << 20) < cap) {  // give back a large over-allocation
        uint8_t *nb = realloc(out, out_len > 0 ? out_len : 1);
        if (nb != NULL) out = nb;
    }
    *data = out;
    *len = out_len;
    return 0;
}

int cs_read_file_maybe_gzip(const char *path, uint8_t **data, size_t *len, char *err, size_t errlen) {
    if (err != NULL && errlen > 0) err[0] = '\0';
    if (data == NULL || len == NULL) {
        set_err(err, errlen, "cs_read_file_maybe_gzip: data and len must not be NULL");
        return -1;
    }
    *data = NULL;
    *len = 0;
    if (path == NULL) {
        set_err(err, errlen, "cs_read_file_maybe_gzip: path is NULL");
        return -1;
    }
    uint8_t *raw = NULL;
    size_t n = 0;
    if (read_raw(path, &raw, &n, err, errlen) != 0) return -1;
    if (n < 2 || raw[0] != 0x1f || raw[1] != 0x8b) {  // not gzip: the bytes as they are
        *data = raw;
        *len = n;
        return 0;
    }
    int rc;
    if (n < 4) {  // shorter than any trailer: nothing to inflate
        set_err(err, errlen,
                "%s: truncated gzip stream: the file is %zu bytes, expected at least a gzip "
                "header (10 bytes) and trailer (8 bytes)",
                path, n);
        rc = -1;
    } else {
        rc = gunzip(path, raw, n, data, len, err, errlen);
    }
    free(raw);
    return rc;
}

void cs_free(void *p) { free(p); }
