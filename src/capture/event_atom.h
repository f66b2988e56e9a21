// The canonical event atom `ritma-ev@1`: the CBOR encoding of one Event that Merkle leaves are
// made of (leaf data = these bytes). Layout: docs/FORMAT.md §9. Decoding is strict: the
// schema's positions, types and sizes are checked, so only atoms this encoder could have
// written are accepted.
#pragma once

#include <array>

#include "capture/event.h"
#include "core/bytes.h"
#include "core/result.h"

namespace ritma::capture {

inline constexpr std::string_view kEventAtomTag = "ritma-ev@1";

// Appends the atom to `out` (no allocation beyond `out`'s growth).
void encode_event_atom(const Event& e, const BootId& boot_id, Bytes& out);
Result<Event> decode_event_atom(ByteSpan atom, BootId* boot_id = nullptr);

}  // namespace ritma::capture
