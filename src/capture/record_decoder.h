// Decodes one ring-buffer record (capture/bpf/sensor_event.h) into an Event. The record is
// checked against its declared kind and size before any field is read, and every string is
// bounded by its field; a malformed record is an error, never a crash. Fills what the record
// holds (clocks, actor fields from the task, type fields, result); sequence number, wall time,
// actor id and enrichment are the pipeline's job.
#pragma once

#include "capture/event.h"
#include "core/bytes.h"
#include "core/result.h"

namespace ritma::capture {

Status decode_record(ByteSpan record, Event& out);

// Parses the question of a DNS query message (RFC 1035 §4.1): name in dotted form and QTYPE.
// Rejects compression pointers, labels over 63 bytes, names over 255 bytes and truncation.
Result<std::pair<std::string, uint16_t>> parse_dns_question(ByteSpan message);

}  // namespace ritma::capture
