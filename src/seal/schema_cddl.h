// The CDDL (RFC 8610) of the sealed store's CBOR structures, written to
// RITMA_OUT/_meta/schema/ritma-store@1.cddl when a store is created, so the store describes
// itself. Informative: docs/FORMAT.md §9-§10 is the specification.
#pragma once

namespace ritma::seal {

inline constexpr const char* kStoreSchemaCddl =
    R"cddl(; Ritma sealed store, format 1 (docs/FORMAT.md sections 9 and 10)
store = ["ritma-store@1", format_version: 1, store_id: bstr .size 16, node_id: tstr,
         created_ns: int, window_ns: uint]
sig = ["ritma-sig@1", key_name: tstr, public_key: bstr .size 32, signature: bstr .size 64]
micro = ["ritma-micro@1", store_id: bstr .size 16, node_id: tstr, log_index: uint,
         slot_start_ns: int, window_ns: uint, part: uint, first_seq: uint, event_count: uint,
         loss_count: uint, filtered_count: uint, min_wall_ns: int, max_wall_ns: int,
         micro_root: bstr .size 32, blocks: [* block], type_counts: [* [type: uint, count: uint]],
         run: [run_id: uint, boot_id: bstr .size 16, sensor_version: tstr, config_digest: tstr],
         privacy: "raw" / "hash-only", sealed_ns: int]
block = [file: tstr, b3: bstr .size 32, zstd_bytes: uint, raw_bytes: uint, event_count: uint]
checkpoint_ref = [tree_size: uint, root: bstr .size 32]
hour_root = ["ritma-hour@1", store_id: bstr .size 16, node_id: tstr, hour_start_ns: int,
             first_log_index: uint, window_count: uint, hour_root: bstr .size 32,
             event_count: uint, closing_checkpoint: checkpoint_ref, closed_ns: int]
chain = ["ritma-chain@1", store_id: bstr .size 16, node_id: tstr, hour_start_ns: int,
         previous: null / [hour_start_ns: int, tree_size: uint, root: bstr .size 32],
         closing: checkpoint_ref, hour_root_b3: bstr .size 32, closed_ns: int]
keys = ["ritma-keys@1", [+ key]]
key = [name: tstr, public_key: bstr .size 32, valid_from_ns: int, valid_until_ns: int / null,
       handover: null / [previous_public_key: bstr .size 32, signature: bstr .size 64]]
handover_message = ["ritma-handover@1", name: tstr, public_key: bstr .size 32,
                    valid_from_ns: int]
time_index_entry = ["ritma-tidx@1", bucket_start_ns: int, log_index: uint, block: uint,
                    event: uint]
kstr = tstr / bstr   ; a kernel string: text when valid UTF-8, else bytes
event = ["ritma-ev@1", boot_id: bstr .size 16, seq: uint, mono_ns: uint, wall_ns: int,
         type: uint, op: uint, flags: uint, result: int, actor: bstr .size 16,
         pid: uint, tid: uint, ppid: uint, uid: uint, gid: uint, euid: uint, egid: uint,
         start_ns: uint, comm: kstr, exe: kstr, cgroup_id: uint, container_id: tstr,
         unit: kstr, mntns: uint, pidns: uint, netns: uint, path: kstr, path2: kstr,
         argv: [* kstr], arg0: uint, arg1: uint, arg2: uint, arg3: uint,
         addr: [family: uint, ip: bstr, port: uint, unix_path: kstr],
         dns_name: tstr, dns_type: uint, count: uint]
)cddl";

}  // namespace ritma::seal
