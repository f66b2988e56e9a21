// SPDX-License-Identifier: GPL-2.0
/* The Ritma sensor's kernel side: BTF tracepoints on sys_enter/sys_exit (paired per thread so
 * every record carries the syscall's result) and sched_process_exec/fork/exit. Records go to
 * one BPF ring buffer; whatever cannot be delivered is counted per CPU in `counters`, which
 * user space reads and seals as loss events. Layouts and knobs: sensor_event.h.
 *
 * Kept short and boring on purpose: read what is needed with CO-RE, bail out early, reserve,
 * fill, submit.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "sensor_event.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define O_ACCMODE 00000003
#define O_CREAT 00000100
#define O_TRUNC 00001000

/* libbpf 1.1 has no 6th-argument syscall accessor. */
#if defined(__TARGET_ARCH_x86)
#define SYSCALL_PARM6(regs) BPF_CORE_READ(regs, r9)
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_PARM6(regs) BPF_CORE_READ(regs, regs[5])
#else
#error "unsupported architecture"
#endif

/* Knobs, set by user space before load. */
const volatile ritma_u32 self_tgid = 0;            /* the sensor itself: not traced */
const volatile ritma_u32 readonly_open_policy = RITMA_RO_SKIP_PREFIXES;
const volatile char ro_skip_prefix[RITMA_RO_PREFIXES][RITMA_RO_PREFIX_LEN] = {};
const volatile ritma_u32 ro_skip_len[RITMA_RO_PREFIXES] = {};
const volatile ritma_u8 syscall_ids[RITMA_MAX_SYSCALL_NR] = {};
const volatile ritma_u64 target_cgroup_id = 0;     /* when non-zero, trace only this cgroup */
/* Wake user space only once this much data waits; it also polls on a short timer. Waking it
 * for every record costs a context switch per event. */
const volatile ritma_u64 wakeup_bytes = 0;

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 16 << 20);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, RITMA_CNT__MAX);
  __type(key, ritma_u32);
  __type(value, ritma_u64);
} counters SEC(".maps");

struct pending_call {
  ritma_u64 args[6];
  ritma_u32 sc;
  ritma_u32 _pad;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, ritma_u64); /* pid_tgid */
  __type(value, struct pending_call);
} pending SEC(".maps");

static __always_inline void count(ritma_u32 which) {
  ritma_u64* v = bpf_map_lookup_elem(&counters, &which);
  if (v) *v += 1;
}

static __always_inline bool traced(ritma_u64 pid_tgid) {
  if ((ritma_u32)(pid_tgid >> 32) == self_tgid) {
    count(RITMA_CNT_SELF_EXCLUDED);
    return false;
  }
  if (target_cgroup_id && bpf_get_current_cgroup_id() != target_cgroup_id) return false;
  return true;
}

static __always_inline void fill_task(struct ritma_task* t, struct task_struct* task) {
  struct task_struct* leader = BPF_CORE_READ(task, group_leader);
  struct task_struct* parent = BPF_CORE_READ(task, real_parent);
  const struct cred* cred = BPF_CORE_READ(task, cred);
  t->start_ns = BPF_CORE_READ(leader, start_boottime);
  t->parent_start_ns = BPF_CORE_READ(parent, group_leader, start_boottime);
  t->cgroup_id = bpf_get_current_cgroup_id();
  t->pid = BPF_CORE_READ(task, tgid);
  t->tid = BPF_CORE_READ(task, pid);
  t->ppid = BPF_CORE_READ(parent, tgid);
  t->uid = BPF_CORE_READ(cred, uid.val);
  t->gid = BPF_CORE_READ(cred, gid.val);
  t->euid = BPF_CORE_READ(cred, euid.val);
  t->egid = BPF_CORE_READ(cred, egid.val);
  t->mntns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
  t->pidns = BPF_CORE_READ(task, nsproxy, pid_ns_for_children, ns.inum);
  t->netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
  bpf_probe_read_kernel_str(t->comm, sizeof(t->comm), &task->comm);
}

/* Reserves a record of `size` bytes and fills its header; counts a drop when the buffer is
 * full. */
static __always_inline void* reserve(ritma_u32 size, ritma_u16 kind, ritma_u16 op,
                                     ritma_s64 result) {
  struct ritma_rec_header* h = bpf_ringbuf_reserve(&events, size, 0);
  if (!h) {
    count(RITMA_CNT_RINGBUF_DROPS);
    return NULL;
  }
  h->kind = kind;
  h->op = op;
  h->size = size;
  h->ktime_ns = bpf_ktime_get_boot_ns();
  h->flags = 0;
  h->cpu = bpf_get_smp_processor_id();
  h->result = result;
  fill_task(&h->task, (struct task_struct*)bpf_get_current_task_btf());
  return h;
}

static __always_inline void submit(void* rec) {
  count(RITMA_CNT_EMITTED);
  ritma_u64 flags = 0;
  if (wakeup_bytes)
    flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
                                                                            : BPF_RB_NO_WAKEUP;
  bpf_ringbuf_submit(rec, flags);
}

/* Copies a user string; sets `trunc_flag` when it filled the field. */
static __always_inline void read_user_path(struct ritma_rec_header* h, char* dst, const void* src,
                                           ritma_u32 trunc_flag) {
  long n = bpf_probe_read_user_str(dst, RITMA_PATH_MAX, src);
  if (n < 0) dst[0] = 0;
  if (n == RITMA_PATH_MAX) h->flags |= trunc_flag;
}

/* ---------------- process lifecycle ---------------- */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct* p, pid_t old_pid, struct linux_binprm* bprm) {
  ritma_u64 pid_tgid = bpf_get_current_pid_tgid();
  if (!traced(pid_tgid)) return 0;
  struct ritma_exec_rec* r = reserve(sizeof(*r), RITMA_KIND_EXEC, 0, 0);
  if (!r) return 0;
  const char* filename = BPF_CORE_READ(bprm, filename);
  long n = bpf_probe_read_kernel_str(r->filename, sizeof(r->filename), filename);
  if (n < 0) r->filename[0] = 0;
  if (n == sizeof(r->filename)) r->h.flags |= RITMA_F_PATH_TRUNCATED;

  struct file* file = BPF_CORE_READ(bprm, file);
  struct inode* inode = BPF_CORE_READ(file, f_inode);
  r->exe_ino = BPF_CORE_READ(inode, i_ino);
  r->exe_dev = BPF_CORE_READ(inode, i_sb, s_dev);
  if (BPF_CORE_READ(inode, i_nlink) == 0) r->h.flags |= RITMA_F_EXEC_DELETED;
  char dname[8] = {};
  bpf_probe_read_kernel_str(dname, sizeof(dname), BPF_CORE_READ(file, f_path.dentry, d_name.name));
  if (dname[0] == 'm' && dname[1] == 'e' && dname[2] == 'm' && dname[3] == 'f' && dname[4] == 'd' &&
      dname[5] == ':')
    r->h.flags |= RITMA_F_EXEC_MEMFD;

  r->argc = BPF_CORE_READ(bprm, argc);
  struct mm_struct* mm = BPF_CORE_READ(p, mm);
  unsigned long arg_start = BPF_CORE_READ(mm, arg_start);
  unsigned long arg_end = BPF_CORE_READ(mm, arg_end);
  unsigned long len = arg_end - arg_start;
  /* A barrier and a mask, not only a comparison: otherwise clang may pass the verifier a copy of
   * the unbounded value. */
  if (len > RITMA_ARGV_BYTES - 1) {
    len = RITMA_ARGV_BYTES - 1;
    r->h.flags |= RITMA_F_ARGV_TRUNCATED;
  }
  barrier_var(len);
  len &= RITMA_ARGV_BYTES - 1;
  if (bpf_probe_read_user(r->argv, len, (void*)arg_start) < 0) len = 0;
  r->argv_len = len;
  submit(r);
  return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct* parent, struct task_struct* child) {
  if (!traced(bpf_get_current_pid_tgid())) return 0;
  /* New threads are not new processes. */
  if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid)) return 0;
  struct ritma_fork_rec* r = reserve(sizeof(*r), RITMA_KIND_FORK, 0, 0);
  if (!r) return 0;
  r->child_pid = BPF_CORE_READ(child, tgid);
  r->child_tid = BPF_CORE_READ(child, pid);
  r->child_start_ns = BPF_CORE_READ(child, start_boottime);
  r->clone_flags = 0;
  submit(r);
  return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct* p) {
  ritma_u64 pid_tgid = bpf_get_current_pid_tgid();
  bpf_map_delete_elem(&pending, &pid_tgid); /* a thread that dies inside a syscall */
  if (!traced(pid_tgid)) return 0;
  /* Report the process once: when its last thread exits. */
  if (BPF_CORE_READ(p, signal, live.counter) != 0) return 0;
  struct ritma_exit_rec* r = reserve(sizeof(*r), RITMA_KIND_EXIT, 0, 0);
  if (!r) return 0;
  r->exit_code = BPF_CORE_READ(p, exit_code);
  struct signal_struct* sig = BPF_CORE_READ(p, signal);
  if (BPF_CORE_READ(sig, flags) & 0x00000004 /* SIGNAL_GROUP_EXIT */)
    r->exit_code = BPF_CORE_READ(sig, group_exit_code);
  r->h.result = r->exit_code;
  submit(r);
  return 0;
}

/* ---------------- syscalls: remember the arguments at entry ---------------- */

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs* regs, long id) {
  if (id < 0 || id >= RITMA_MAX_SYSCALL_NR) return 0;
  ritma_u8 sc = syscall_ids[id];
  if (sc == RITMA_SC_NONE) return 0;
  ritma_u64 pid_tgid = bpf_get_current_pid_tgid();
  if (!traced(pid_tgid)) return 0;
  struct pending_call call = {};
  call.sc = sc;
  call.args[0] = PT_REGS_PARM1_CORE_SYSCALL(regs);
  call.args[1] = PT_REGS_PARM2_CORE_SYSCALL(regs);
  call.args[2] = PT_REGS_PARM3_CORE_SYSCALL(regs);
  call.args[3] = PT_REGS_PARM4_CORE_SYSCALL(regs);
  call.args[4] = PT_REGS_PARM5_CORE_SYSCALL(regs);
  call.args[5] = SYSCALL_PARM6(regs);
  if (bpf_map_update_elem(&pending, &pid_tgid, &call, BPF_ANY) != 0)
    count(RITMA_CNT_PENDING_OVERFLOW);
  return 0;
}

/* ---------------- syscalls: emit at exit, with the result ---------------- */

static __always_inline bool skip_readonly_open(const char* path) {
  if (readonly_open_policy == RITMA_RO_ALL) return false;
  if (readonly_open_policy == RITMA_RO_NONE) return true;
  for (int i = 0; i < RITMA_RO_PREFIXES; i++) {
    ritma_u32 len = ro_skip_len[i];
    if (len == 0 || len > RITMA_RO_PREFIX_LEN) continue;
    bool match = true;
    for (int j = 0; j < RITMA_RO_PREFIX_LEN; j++) {
      if (j >= len) break;
      if (path[j] != ro_skip_prefix[i][j]) {
        match = false;
        break;
      }
    }
    if (match) return true;
  }
  return false;
}

static __always_inline int emit_file(struct pending_call* c, ritma_s64 ret) {
  ritma_u16 op;
  const void* p1 = NULL;
  const void* p2 = NULL;
  ritma_s64 dirfd = -100; /* AT_FDCWD */
  ritma_u64 flags = 0, mode = 0, uid = 0, gid = 0;
  switch (c->sc) {
    case RITMA_SC_OPEN: op = RITMA_OP_OPEN; p1 = (void*)c->args[0]; flags = c->args[1]; mode = c->args[2]; break;
    case RITMA_SC_CREAT: op = RITMA_OP_OPEN; p1 = (void*)c->args[0]; flags = O_CREAT | O_TRUNC | 1; mode = c->args[1]; break;
    case RITMA_SC_OPENAT: op = RITMA_OP_OPEN; dirfd = (int)c->args[0]; p1 = (void*)c->args[1]; flags = c->args[2]; mode = c->args[3]; break;
    case RITMA_SC_OPENAT2: {
      op = RITMA_OP_OPEN; dirfd = (int)c->args[0]; p1 = (void*)c->args[1];
      struct open_how how = {};
      bpf_probe_read_user(&how, sizeof(how.flags) + sizeof(how.mode), (void*)c->args[2]);
      flags = how.flags; mode = how.mode;
      break;
    }
    case RITMA_SC_UNLINK: op = RITMA_OP_UNLINK; p1 = (void*)c->args[0]; break;
    case RITMA_SC_UNLINKAT: op = RITMA_OP_UNLINK; dirfd = (int)c->args[0]; p1 = (void*)c->args[1]; flags = c->args[2]; break;
    case RITMA_SC_RMDIR: op = RITMA_OP_RMDIR; p1 = (void*)c->args[0]; break;
    case RITMA_SC_MKDIR: op = RITMA_OP_MKDIR; p1 = (void*)c->args[0]; mode = c->args[1]; break;
    case RITMA_SC_MKDIRAT: op = RITMA_OP_MKDIR; dirfd = (int)c->args[0]; p1 = (void*)c->args[1]; mode = c->args[2]; break;
    case RITMA_SC_RENAME: op = RITMA_OP_RENAME; p1 = (void*)c->args[0]; p2 = (void*)c->args[1]; break;
    case RITMA_SC_RENAMEAT: op = RITMA_OP_RENAME; dirfd = (int)c->args[0]; p1 = (void*)c->args[1]; p2 = (void*)c->args[3]; break;
    case RITMA_SC_RENAMEAT2: op = RITMA_OP_RENAME; dirfd = (int)c->args[0]; p1 = (void*)c->args[1]; p2 = (void*)c->args[3]; flags = c->args[4]; break;
    case RITMA_SC_CHMOD: op = RITMA_OP_CHMOD; p1 = (void*)c->args[0]; mode = c->args[1]; break;
    case RITMA_SC_FCHMOD: op = RITMA_OP_CHMOD; dirfd = (int)c->args[0]; mode = c->args[1]; break;
    case RITMA_SC_FCHMODAT: op = RITMA_OP_CHMOD; dirfd = (int)c->args[0]; p1 = (void*)c->args[1]; mode = c->args[2]; break;
    case RITMA_SC_CHOWN: case RITMA_SC_LCHOWN: op = RITMA_OP_CHOWN; p1 = (void*)c->args[0]; uid = c->args[1]; gid = c->args[2]; break;
    case RITMA_SC_FCHOWN: op = RITMA_OP_CHOWN; dirfd = (int)c->args[0]; uid = c->args[1]; gid = c->args[2]; break;
    case RITMA_SC_FCHOWNAT: op = RITMA_OP_CHOWN; dirfd = (int)c->args[0]; p1 = (void*)c->args[1]; uid = c->args[2]; gid = c->args[3]; flags = c->args[4]; break;
    case RITMA_SC_LINK: op = RITMA_OP_LINK; p1 = (void*)c->args[0]; p2 = (void*)c->args[1]; break;
    case RITMA_SC_LINKAT: op = RITMA_OP_LINK; dirfd = (int)c->args[0]; p1 = (void*)c->args[1]; p2 = (void*)c->args[3]; flags = c->args[4]; break;
    case RITMA_SC_SYMLINK: op = RITMA_OP_SYMLINK; p1 = (void*)c->args[0]; p2 = (void*)c->args[1]; break;
    case RITMA_SC_SYMLINKAT: op = RITMA_OP_SYMLINK; p1 = (void*)c->args[0]; dirfd = (int)c->args[1]; p2 = (void*)c->args[2]; break;
    default: return 0;
  }
  struct ritma_file_rec* r = reserve(sizeof(*r), RITMA_KIND_FILE, op, ret);
  if (!r) return 0;
  r->dirfd = dirfd;
  r->flags = flags;
  r->mode = mode;
  r->uid = uid;
  r->gid = gid;
  r->path[0] = 0;
  r->path2[0] = 0;
  if (p1) read_user_path(&r->h, r->path, p1, RITMA_F_PATH_TRUNCATED);
  if (p2) read_user_path(&r->h, r->path2, p2, RITMA_F_PATH2_TRUNCATED);
  if (op == RITMA_OP_OPEN && (flags & (O_ACCMODE | O_CREAT | O_TRUNC)) == 0 &&
      skip_readonly_open(r->path)) {
    bpf_ringbuf_discard(r, 0);
    count(RITMA_CNT_FILTERED_OPENS);
    return 0;
  }
  submit(r);
  return 0;
}

static __always_inline int emit_net(struct pending_call* c, ritma_s64 ret) {
  ritma_u16 op;
  const void* addr = NULL;
  ritma_u32 addr_len = 0;
  switch (c->sc) {
    case RITMA_SC_CONNECT: op = RITMA_OP_CONNECT; addr = (void*)c->args[1]; addr_len = c->args[2]; break;
    case RITMA_SC_BIND: op = RITMA_OP_BIND; addr = (void*)c->args[1]; addr_len = c->args[2]; break;
    case RITMA_SC_LISTEN: op = RITMA_OP_LISTEN; break;
    case RITMA_SC_ACCEPT:
    case RITMA_SC_ACCEPT4: {
      op = RITMA_OP_ACCEPT;
      addr = (void*)c->args[1];
      if (addr && c->args[2]) {
        int len = 0;
        bpf_probe_read_user(&len, sizeof(len), (void*)c->args[2]);
        addr_len = len;
      }
      break;
    }
    case RITMA_SC_SENDTO: {
      /* Only DNS: UDP datagrams to port 53 with an explicit destination. */
      op = RITMA_OP_SENDTO;
      addr = (void*)c->args[4];
      addr_len = c->args[5];
      if (!addr) return 0;
      struct {
        ritma_u16 family;
        ritma_u16 port_be;
      } head = {};
      if (bpf_probe_read_user(&head, sizeof(head), addr) < 0) return 0;
      if ((head.family != AF_INET && head.family != AF_INET6) || head.port_be != 0x3500) return 0;
      break;
    }
    default: return 0;
  }
  struct ritma_net_rec* r = reserve(sizeof(*r), RITMA_KIND_NET, op, ret);
  if (!r) return 0;
  r->fd = (int)c->args[0];
  r->backlog = op == RITMA_OP_LISTEN ? c->args[1] : 0;
  r->addr_len = 0;
  r->payload_len = 0;
  if (addr && addr_len) {
    if (addr_len > RITMA_SOCKADDR_LEN) addr_len = RITMA_SOCKADDR_LEN;
    barrier_var(addr_len);
    addr_len &= 31;
    if (bpf_probe_read_user(r->addr, addr_len, addr) == 0) r->addr_len = addr_len;
  }
  if (op == RITMA_OP_SENDTO) {
    ritma_u64 len = c->args[2];
    if (len > RITMA_DNS_PAYLOAD - 1) len = RITMA_DNS_PAYLOAD - 1;
    barrier_var(len);
    len &= RITMA_DNS_PAYLOAD - 1;
    if (bpf_probe_read_user(r->payload, len, (void*)c->args[1]) == 0) r->payload_len = len;
  }
  submit(r);
  return 0;
}

static __always_inline int emit_priv(struct pending_call* c, ritma_s64 ret) {
  ritma_u16 op;
  const void* s1 = NULL;
  const void* s2 = NULL;
  switch (c->sc) {
    case RITMA_SC_SETUID: op = RITMA_OP_SETUID; break;
    case RITMA_SC_SETGID: op = RITMA_OP_SETGID; break;
    case RITMA_SC_SETREUID: op = RITMA_OP_SETREUID; break;
    case RITMA_SC_SETREGID: op = RITMA_OP_SETREGID; break;
    case RITMA_SC_SETRESUID: op = RITMA_OP_SETRESUID; break;
    case RITMA_SC_SETRESGID: op = RITMA_OP_SETRESGID; break;
    case RITMA_SC_CAPSET: op = RITMA_OP_CAPSET; break;
    case RITMA_SC_PTRACE: op = RITMA_OP_PTRACE; break;
    case RITMA_SC_INIT_MODULE: op = RITMA_OP_INIT_MODULE; s1 = (void*)c->args[2]; break;
    case RITMA_SC_FINIT_MODULE: op = RITMA_OP_FINIT_MODULE; s1 = (void*)c->args[1]; break;
    case RITMA_SC_DELETE_MODULE: op = RITMA_OP_DELETE_MODULE; s1 = (void*)c->args[0]; break;
    case RITMA_SC_BPF: op = RITMA_OP_BPF; break;
    case RITMA_SC_MOUNT: op = RITMA_OP_MOUNT; s1 = (void*)c->args[0]; s2 = (void*)c->args[1]; break;
    case RITMA_SC_UMOUNT2: op = RITMA_OP_UMOUNT; s1 = (void*)c->args[0]; break;
    case RITMA_SC_UNSHARE: op = RITMA_OP_UNSHARE; break;
    case RITMA_SC_SETNS: op = RITMA_OP_SETNS; break;
    case RITMA_SC_MEMFD_CREATE: op = RITMA_OP_MEMFD_CREATE; s1 = (void*)c->args[0]; break;
    default: return 0;
  }
  struct ritma_priv_rec* r = reserve(sizeof(*r), RITMA_KIND_PRIV, op, ret);
  if (!r) return 0;
  r->arg[0] = c->args[0];
  r->arg[1] = c->args[1];
  r->arg[2] = c->args[2];
  r->arg[3] = c->args[3];
  r->path[0] = 0;
  r->path2[0] = 0;
  if (s1) read_user_path(&r->h, r->path, s1, RITMA_F_PATH_TRUNCATED);
  if (s2) read_user_path(&r->h, r->path2, s2, RITMA_F_PATH2_TRUNCATED);
  submit(r);
  return 0;
}

/* A failed execve/execveat: sched_process_exec only fires on success. */
static __always_inline int emit_failed_exec(struct pending_call* c, ritma_s64 ret) {
  if (ret >= 0) return 0;
  struct ritma_exec_rec* r = reserve(sizeof(*r), RITMA_KIND_EXEC, 0, ret);
  if (!r) return 0;
  const void* filename = (void*)(c->sc == RITMA_SC_EXECVE ? c->args[0] : c->args[1]);
  r->exe_ino = 0;
  r->exe_dev = 0;
  r->argc = 0;
  r->argv_len = 0;
  read_user_path(&r->h, r->filename, filename, RITMA_F_PATH_TRUNCATED);
  submit(r);
  return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs* regs, long ret) {
  ritma_u64 pid_tgid = bpf_get_current_pid_tgid();
  struct pending_call* c = bpf_map_lookup_elem(&pending, &pid_tgid);
  if (!c) return 0;
  struct pending_call call = *c;
  bpf_map_delete_elem(&pending, &pid_tgid);
  if (call.sc >= RITMA_SC_OPEN && call.sc <= RITMA_SC_RMDIR) return emit_file(&call, ret);
  if (call.sc == RITMA_SC_EXECVE || call.sc == RITMA_SC_EXECVEAT)
    return emit_failed_exec(&call, ret);
  if (call.sc >= RITMA_SC_CONNECT && call.sc <= RITMA_SC_SENDTO) return emit_net(&call, ret);
  return emit_priv(&call, ret);
}
