/* The kernel/user contract of the Ritma sensor: the layout of every record the BPF programs
 * put in the ring buffer, and the knobs user space sets before load. This header is the only
 * coupling between sensor.bpf.c and user space; it is C (included by the BPF program, which is
 * compiled with clang -target bpf against vmlinux.h) and C++ (included by the decoder).
 *
 * Every record starts with struct ritma_rec_header; `kind` says which struct follows and
 * `size` is the whole record's length in bytes. Strings are NUL-terminated within fixed-size
 * fields; a field filled to its bound sets the matching *_TRUNCATED flag.
 */
#ifndef RITMA_CAPTURE_BPF_SENSOR_EVENT_H_
#define RITMA_CAPTURE_BPF_SENSOR_EVENT_H_

#ifdef __bpf__
/* vmlinux.h provides the fixed-width kernel types. */
typedef __u8 ritma_u8;
typedef __u16 ritma_u16;
typedef __u32 ritma_u32;
typedef __u64 ritma_u64;
typedef __s32 ritma_s32;
typedef __s64 ritma_s64;
#else
#include <stdint.h>
typedef uint8_t ritma_u8;
typedef uint16_t ritma_u16;
typedef uint32_t ritma_u32;
typedef uint64_t ritma_u64;
typedef int32_t ritma_s32;
typedef int64_t ritma_s64;
#endif

#define RITMA_PATH_MAX 256   /* bytes kept of each path */
#define RITMA_ARGV_BYTES 512 /* bytes kept of an exec's argv (NUL-separated) */
#define RITMA_ARGV_MAX 16    /* argv entries read */
#define RITMA_COMM_LEN 16
#define RITMA_DNS_PAYLOAD 128 /* bytes of a UDP/53 payload copied for user-space parsing */
#define RITMA_SOCKADDR_LEN 28 /* sizeof(struct sockaddr_in6) */

/* Record kinds, and for syscall records the event type. Values are part of the sealed format
 * (docs/FORMAT.md); never renumber. */
enum ritma_kind {
  RITMA_KIND_EXEC = 1,      /* struct ritma_exec_rec */
  RITMA_KIND_FORK = 2,      /* struct ritma_fork_rec */
  RITMA_KIND_EXIT = 3,      /* struct ritma_exit_rec */
  RITMA_KIND_FILE = 4,      /* struct ritma_file_rec: open/unlink/rename/chmod/chown/link/... */
  RITMA_KIND_NET = 5,       /* struct ritma_net_rec: connect/accept/bind/listen/sendto */
  RITMA_KIND_PRIV = 6,      /* struct ritma_priv_rec: setuid/capset/ptrace/module/bpf/... */
};

/* Which syscall a FILE, NET or PRIV record describes. */
enum ritma_op {
  RITMA_OP_OPEN = 1, RITMA_OP_UNLINK, RITMA_OP_RENAME, RITMA_OP_CHMOD, RITMA_OP_CHOWN,
  RITMA_OP_LINK, RITMA_OP_SYMLINK, RITMA_OP_MKDIR, RITMA_OP_RMDIR,
  RITMA_OP_CONNECT = 32, RITMA_OP_ACCEPT, RITMA_OP_BIND, RITMA_OP_LISTEN, RITMA_OP_SENDTO,
  RITMA_OP_SETUID = 64, RITMA_OP_SETGID, RITMA_OP_SETREUID, RITMA_OP_SETREGID,
  RITMA_OP_SETRESUID, RITMA_OP_SETRESGID, RITMA_OP_CAPSET, RITMA_OP_PTRACE,
  RITMA_OP_INIT_MODULE, RITMA_OP_FINIT_MODULE, RITMA_OP_DELETE_MODULE, RITMA_OP_BPF,
  RITMA_OP_MOUNT, RITMA_OP_UMOUNT, RITMA_OP_UNSHARE, RITMA_OP_SETNS, RITMA_OP_MEMFD_CREATE,
};

/* The syscalls the sensor pairs at sys_enter/sys_exit. User space fills the `syscall_ids`
 * table (syscall number -> one of these) before load, from <sys/syscall.h>, so the BPF program
 * needs no per-architecture numbers. 0 means "not traced". */
enum ritma_sc {
  RITMA_SC_NONE = 0,
  RITMA_SC_OPEN, RITMA_SC_OPENAT, RITMA_SC_OPENAT2, RITMA_SC_CREAT,
  RITMA_SC_UNLINK, RITMA_SC_UNLINKAT, RITMA_SC_RENAME, RITMA_SC_RENAMEAT, RITMA_SC_RENAMEAT2,
  RITMA_SC_CHMOD, RITMA_SC_FCHMOD, RITMA_SC_FCHMODAT, RITMA_SC_CHOWN, RITMA_SC_LCHOWN,
  RITMA_SC_FCHOWN, RITMA_SC_FCHOWNAT, RITMA_SC_LINK, RITMA_SC_LINKAT, RITMA_SC_SYMLINK,
  RITMA_SC_SYMLINKAT, RITMA_SC_MKDIR, RITMA_SC_MKDIRAT, RITMA_SC_RMDIR,
  RITMA_SC_EXECVE, RITMA_SC_EXECVEAT,
  RITMA_SC_CONNECT, RITMA_SC_ACCEPT, RITMA_SC_ACCEPT4, RITMA_SC_BIND, RITMA_SC_LISTEN,
  RITMA_SC_SENDTO,
  RITMA_SC_SETUID, RITMA_SC_SETGID, RITMA_SC_SETREUID, RITMA_SC_SETREGID, RITMA_SC_SETRESUID,
  RITMA_SC_SETRESGID, RITMA_SC_CAPSET, RITMA_SC_PTRACE, RITMA_SC_INIT_MODULE,
  RITMA_SC_FINIT_MODULE, RITMA_SC_DELETE_MODULE, RITMA_SC_BPF, RITMA_SC_MOUNT, RITMA_SC_UMOUNT2,
  RITMA_SC_UNSHARE, RITMA_SC_SETNS, RITMA_SC_MEMFD_CREATE,
  RITMA_SC__COUNT
};
#define RITMA_MAX_SYSCALL_NR 512 /* size of the syscall_ids table */

/* Read-only open policy (knob `readonly_open_policy`). */
#define RITMA_RO_NONE 0         /* skip every read-only open (counted) */
#define RITMA_RO_ALL 1          /* record every read-only open */
#define RITMA_RO_SKIP_PREFIXES 2 /* record them except under the skip prefixes (counted) */
#define RITMA_RO_PREFIXES 8     /* number of skip prefixes */
#define RITMA_RO_PREFIX_LEN 32  /* bytes per skip prefix */

/* Flags in ritma_rec_header.flags. */
#define RITMA_F_PATH_TRUNCATED (1u << 0)
#define RITMA_F_PATH2_TRUNCATED (1u << 1)
#define RITMA_F_ARGV_TRUNCATED (1u << 2)
#define RITMA_F_EXEC_MEMFD (1u << 3)   /* executable came from a memfd */
#define RITMA_F_EXEC_DELETED (1u << 4) /* executable file had no links left */

/* Who did it, read from the task in BPF. */
struct ritma_task {
  ritma_u64 start_ns;   /* group leader's start time, boot-time ns (task->group_leader->start_boottime) */
  ritma_u64 parent_start_ns;
  ritma_u64 cgroup_id;  /* cgroup v2 id (unified hierarchy) */
  ritma_u32 pid;        /* thread group id (user-space pid) */
  ritma_u32 tid;
  ritma_u32 ppid;       /* real parent's tgid */
  ritma_u32 uid, gid, euid, egid;
  ritma_u32 mntns, pidns, netns; /* namespace inode numbers */
  char comm[RITMA_COMM_LEN];
};

struct ritma_rec_header {
  ritma_u16 kind;
  ritma_u16 op;         /* enum ritma_op for FILE/NET/PRIV, else 0 */
  ritma_u32 size;       /* bytes of the whole record */
  ritma_u64 ktime_ns;   /* bpf_ktime_get_boot_ns() when the record was made */
  ritma_u32 flags;
  ritma_u32 cpu;
  ritma_s64 result;     /* syscall return value; negative errno on failure */
  struct ritma_task task;
};

struct ritma_exec_rec {
  struct ritma_rec_header h;
  ritma_u64 exe_ino;
  ritma_u32 exe_dev;
  ritma_u32 argc;          /* argv entries the process had (may exceed those kept) */
  ritma_u32 argv_len;      /* bytes used in argv */
  ritma_u32 _pad;
  char filename[RITMA_PATH_MAX];
  char argv[RITMA_ARGV_BYTES];
};

struct ritma_fork_rec {
  struct ritma_rec_header h; /* task = the parent */
  ritma_u32 child_pid;       /* child's tgid */
  ritma_u32 child_tid;
  ritma_u64 child_start_ns;
  ritma_u64 clone_flags;     /* 0 when unknown */
};

struct ritma_exit_rec {
  struct ritma_rec_header h;
  ritma_s32 exit_code;       /* task->exit_code: (status << 8) | signal */
  ritma_u32 _pad;
};

struct ritma_file_rec {
  struct ritma_rec_header h;
  ritma_s64 dirfd;
  ritma_u64 flags;           /* open flags, rename flags, at-flags */
  ritma_u64 mode;            /* open/chmod mode */
  ritma_u64 uid, gid;        /* chown target */
  char path[RITMA_PATH_MAX];
  char path2[RITMA_PATH_MAX]; /* rename/link/symlink target */
};

struct ritma_net_rec {
  struct ritma_rec_header h;
  ritma_s64 fd;
  ritma_u32 addr_len;        /* bytes valid in addr */
  ritma_u32 payload_len;     /* bytes valid in payload (UDP/53 sendto only) */
  ritma_u64 backlog;         /* listen */
  ritma_u8 addr[RITMA_SOCKADDR_LEN]; /* struct sockaddr_{in,in6} as the caller passed it */
  ritma_u8 _pad[4];
  ritma_u8 payload[RITMA_DNS_PAYLOAD];
};

struct ritma_priv_rec {
  struct ritma_rec_header h;
  ritma_u64 arg[4];          /* the syscall's integer arguments, by op (docs/FORMAT.md) */
  char path[RITMA_PATH_MAX]; /* mount source/target, module name, memfd name */
  char path2[RITMA_PATH_MAX];
};

/* Per-CPU counters in the `counters` array map, read and sealed by user space. */
enum ritma_counter {
  RITMA_CNT_RINGBUF_DROPS = 0,     /* bpf_ringbuf_reserve failed: records lost */
  RITMA_CNT_FILTERED_OPENS = 1,    /* read-only opens skipped by policy (counted, not lost) */
  RITMA_CNT_PENDING_OVERFLOW = 2,  /* enter/exit pairing map full: syscalls not recorded */
  RITMA_CNT_EMITTED = 3,           /* records submitted */
  RITMA_CNT_SELF_EXCLUDED = 4,     /* the sensor's own traced syscalls and lifecycle events */
  RITMA_CNT__MAX = 8,
};

#endif /* RITMA_CAPTURE_BPF_SENSOR_EVENT_H_ */
