//! The spool of what the server has not acknowledged yet: log text (as chunks with byte offsets)
//! and results. Everything is kept until acknowledged and resent, in order, after a reconnect, so
//! a dropped connection loses no line and no result. Duplicates are harmless: the server stores
//! a chunk once per offset and records a result once.

use std::collections::{BTreeMap, VecDeque};

use app::{ids::AttemptId, protocol::WorkerMsg};

/// Chunks are cut at about this size.
pub const CHUNK_BYTES: usize = 64 << 10;

#[derive(Default)]
struct AttemptLog {
    /// The offset the next chunk starts at.
    next_offset: u64,
    /// Text not yet cut into a chunk.
    pending: String,
    /// Sent (or to send) and not acknowledged: (offset, text).
    unacked: VecDeque<(u64, String)>,
}

/// See the module docs.
#[derive(Default)]
pub struct Outbox {
    logs: BTreeMap<AttemptId, AttemptLog>,
    finished: BTreeMap<AttemptId, WorkerMsg>,
}

impl Outbox {
    /// Adds log text; returns the chunks that became ready to send.
    pub fn push_log(&mut self, attempt: AttemptId, text: &str) -> Vec<WorkerMsg> {
        let log = self.logs.entry(attempt).or_default();
        log.pending.push_str(text);
        if log.pending.len() >= CHUNK_BYTES {
            self.flush(attempt)
        } else {
            Vec::new()
        }
    }

    /// Cuts an attempt's pending text into a chunk; returns it as a message.
    pub fn flush(&mut self, attempt: AttemptId) -> Vec<WorkerMsg> {
        let Some(log) = self.logs.get_mut(&attempt) else {
            return Vec::new();
        };
        if log.pending.is_empty() {
            return Vec::new();
        }
        let text = std::mem::take(&mut log.pending);
        let offset = log.next_offset;
        log.next_offset += text.len() as u64;
        log.unacked.push_back((offset, text.clone()));
        vec![WorkerMsg::Log {
            attempt,
            offset,
            text,
        }]
    }

    /// Flushes every attempt.
    pub fn flush_all(&mut self) -> Vec<WorkerMsg> {
        let ids: Vec<AttemptId> = self.logs.keys().copied().collect();
        ids.into_iter().flat_map(|id| self.flush(id)).collect()
    }

    /// Records a result (after flushing the attempt's log, so the result follows every line).
    pub fn push_finished(&mut self, attempt: AttemptId, msg: WorkerMsg) -> Vec<WorkerMsg> {
        let mut out = self.flush(attempt);
        self.finished.insert(attempt, msg.clone());
        out.push(msg);
        out
    }

    /// The server stored the log up to `next_offset`.
    pub fn ack_log(&mut self, attempt: AttemptId, next_offset: u64) {
        if let Some(log) = self.logs.get_mut(&attempt) {
            while log
                .unacked
                .front()
                .is_some_and(|(offset, text)| offset + text.len() as u64 <= next_offset)
            {
                log.unacked.pop_front();
            }
        }
    }

    /// The server recorded the result: forget the attempt.
    pub fn ack_finished(&mut self, attempt: AttemptId) {
        if self.finished.remove(&attempt).is_some() {
            self.logs.remove(&attempt);
        }
    }

    /// Attempts with anything unacknowledged.
    pub fn attempts(&self) -> Vec<AttemptId> {
        let mut ids: Vec<AttemptId> = self
            .logs
            .keys()
            .chain(self.finished.keys())
            .copied()
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Everything to resend after a reconnect: per attempt its unacknowledged chunks, then its
    /// result.
    pub fn replay(&self) -> Vec<WorkerMsg> {
        let mut out = Vec::new();
        for id in self.attempts() {
            if let Some(log) = self.logs.get(&id) {
                for (offset, text) in &log.unacked {
                    out.push(WorkerMsg::Log {
                        attempt: id,
                        offset: *offset,
                        text: text.clone(),
                    });
                }
            }
            if let Some(msg) = self.finished.get(&id) {
                out.push(msg.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use app::domain::AttemptOutcome;
    use chrono::Utc;

    use super::*;

    #[test]
    fn chunks_carry_offsets_and_are_replayed_until_acknowledged() {
        let mut outbox = Outbox::default();
        let a = AttemptId(1);
        assert!(outbox.push_log(a, "one\n").is_empty());
        let sent = outbox.flush(a);
        assert_eq!(
            sent,
            vec![WorkerMsg::Log {
                attempt: a,
                offset: 0,
                text: "one\n".to_owned()
            }]
        );
        outbox.push_log(a, "two\n");
        let finished = WorkerMsg::Finished {
            attempt: a,
            outcome: AttemptOutcome::Succeeded,
            exit_code: Some(0),
            at: Utc::now(),
        };
        let sent = outbox.push_finished(a, finished.clone());
        assert_eq!(
            sent[0],
            WorkerMsg::Log {
                attempt: a,
                offset: 4,
                text: "two\n".to_owned()
            }
        );
        assert_eq!(sent[1], finished);
        // The first chunk was acknowledged, then the connection dropped: the rest is replayed.
        outbox.ack_log(a, 4);
        let replay = outbox.replay();
        assert_eq!(replay.len(), 2);
        assert_eq!(
            replay[0],
            WorkerMsg::Log {
                attempt: a,
                offset: 4,
                text: "two\n".to_owned()
            }
        );
        assert_eq!(outbox.attempts(), vec![a]);
        outbox.ack_finished(a);
        assert!(outbox.replay().is_empty());
        assert!(outbox.attempts().is_empty());
    }

    #[test]
    fn large_output_is_cut_into_chunks() {
        let mut outbox = Outbox::default();
        let line = "x".repeat(1000) + "\n";
        let mut sent = Vec::new();
        for _ in 0..200 {
            sent.extend(outbox.push_log(AttemptId(1), &line));
        }
        sent.extend(outbox.flush(AttemptId(1)));
        let total: usize = sent
            .iter()
            .map(|m| match m {
                WorkerMsg::Log { text, .. } => text.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(total, 200 * 1001);
        assert!(sent.len() >= 3);
    }
}
