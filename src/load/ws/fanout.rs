//! Room fan-out accounting: what each subscriber received from each publisher, and the
//! settlement at the end of a load into delivered, lost, duplicated, out of order and still in
//! flight. Pure code, no I/O.
//!
//! Every published message carries its publisher's id and a sequence number (0, 1, 2, ... per
//! publisher). A subscriber keeps one bit per (publisher, sequence number) it received, so a
//! duplicate is told from a late first delivery exactly. At the end, a message a subscriber
//! never received is *lost* when the subscriber received a later message of the same publisher
//! (the server skipped it) or had its connection dropped; otherwise it is *in flight*: like the
//! HTTP engine's unanswered requests, counted with the time since it was sent as a lower bound
//! of its latency, not as a loss.

use serde::Serialize;

/// What a subscriber made of one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// A first delivery, in order.
    New,
    /// A first delivery after a later message of the same publisher.
    OutOfOrder,
    /// A message this subscriber had already received.
    Duplicate,
    /// A publisher or sequence number that was never sent (beyond the plan's bounds).
    Unknown,
}

/// One subscriber's deliveries.
#[derive(Debug, Clone, Default)]
pub struct Inbox {
    /// Per publisher: one bit per sequence number received.
    seen: Vec<Vec<u64>>,
    /// Per publisher: one more than the highest sequence number received (0: none yet).
    next: Vec<u64>,
    /// The highest sequence number any publisher may reach.
    max_seq: u64,
    /// First deliveries.
    pub delivered: u64,
    /// Repeated deliveries.
    pub duplicated: u64,
    /// First deliveries that came after a later message of the same publisher.
    pub out_of_order: u64,
    /// The server closed or reset this subscriber's connection during the load.
    pub dropped: bool,
}

impl Inbox {
    /// An empty inbox for `publishers`, none of which sends more than `max_seq + 1` messages.
    pub fn new(publishers: usize, max_seq: u64) -> Self {
        Self {
            seen: vec![Vec::new(); publishers],
            next: vec![0; publishers],
            max_seq,
            ..Self::default()
        }
    }

    /// Records the delivery of message `seq` of `publisher`.
    #[inline]
    pub fn receive(&mut self, publisher: usize, seq: u64) -> Receipt {
        if publisher >= self.seen.len() || seq > self.max_seq {
            return Receipt::Unknown;
        }
        let bits = &mut self.seen[publisher];
        let (word, bit) = ((seq / 64) as usize, 1u64 << (seq % 64));
        if bits.len() <= word {
            bits.resize(word + 1, 0);
        }
        if bits[word] & bit != 0 {
            self.duplicated += 1;
            return Receipt::Duplicate;
        }
        bits[word] |= bit;
        self.delivered += 1;
        let next = &mut self.next[publisher];
        if seq + 1 < *next {
            self.out_of_order += 1;
            Receipt::OutOfOrder
        } else {
            *next = seq + 1;
            Receipt::New
        }
    }

    fn has(&self, publisher: usize, seq: u64) -> bool {
        self.seen[publisher]
            .get((seq / 64) as usize)
            .is_some_and(|w| w & (1 << (seq % 64)) != 0)
    }
}

/// The fan-out figures of a room load, over every subscriber.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Fanout {
    /// Publishing connections.
    pub publishers: usize,
    /// Subscribing connections.
    pub subscribers: usize,
    /// Messages published in the window (written in full).
    pub published: u64,
    /// Deliveries owed: every published message to every subscriber.
    pub expected: u64,
    /// First deliveries (in the window or the drain after it).
    pub delivered: u64,
    /// Messages a subscriber never received although a later one of the same publisher
    /// arrived, or whose connection the server dropped.
    pub lost: u64,
    /// Deliveries of a message the subscriber already had.
    pub duplicated: u64,
    /// First deliveries that came after a later message of the same publisher.
    pub out_of_order: u64,
    /// Deliveries still owed after the drain with no later message of the same publisher
    /// received: in flight, not lost (their ages are in the recording's unanswered figures).
    pub in_flight: u64,
    /// `delivered / expected`; `None` when nothing was published.
    pub delivery_ratio: Option<f64>,
    /// How long subscribers kept reading after the window closed, in seconds.
    pub drain_s: f64,
}

/// Settles the inboxes against what each publisher sent: `sent_ns[p]` lists, in sequence
/// order, the intended send times of publisher `p`'s messages (ns since the window opened).
/// Calls `in_flight_age` with the age at `closed_ns` of every delivery still in flight.
pub fn settle(
    inboxes: &[Inbox],
    sent_ns: &[Vec<u64>],
    closed_ns: u64,
    mut in_flight_age: impl FnMut(u64),
) -> Fanout {
    let published: u64 = sent_ns.iter().map(|s| s.len() as u64).sum();
    let mut f = Fanout {
        publishers: sent_ns.len(),
        subscribers: inboxes.len(),
        published,
        expected: published * inboxes.len() as u64,
        ..Fanout::default()
    };
    for inbox in inboxes {
        f.duplicated += inbox.duplicated;
        f.out_of_order += inbox.out_of_order;
        for (p, sent) in sent_ns.iter().enumerate() {
            let next = inbox.next.get(p).copied().unwrap_or(0);
            for (seq, &at_ns) in sent.iter().enumerate() {
                let seq = seq as u64;
                if inbox.has(p, seq) {
                    f.delivered += 1;
                } else if seq < next || inbox.dropped {
                    f.lost += 1;
                } else {
                    f.in_flight += 1;
                    in_flight_age(closed_ns.saturating_sub(at_ns) / 1000);
                }
            }
        }
    }
    f.delivery_ratio = (f.expected > 0).then(|| f.delivered as f64 / f.expected as f64);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_tell_duplicates_from_late_first_deliveries() {
        let mut inbox = Inbox::new(2, 1000);
        assert_eq!(inbox.receive(0, 0), Receipt::New);
        assert_eq!(inbox.receive(0, 2), Receipt::New);
        assert_eq!(inbox.receive(0, 1), Receipt::OutOfOrder);
        assert_eq!(inbox.receive(0, 1), Receipt::Duplicate);
        assert_eq!(inbox.receive(1, 130), Receipt::New);
        assert_eq!(inbox.receive(2, 0), Receipt::Unknown);
        assert_eq!(inbox.receive(1, 1001), Receipt::Unknown);
        assert_eq!(
            (inbox.delivered, inbox.duplicated, inbox.out_of_order),
            (4, 1, 1)
        );
    }

    #[test]
    fn settlement_splits_lost_from_in_flight() {
        // Publisher 0 sent 5 messages at 0, 1, 2, 3, 4 ms; publisher 1 sent 2.
        let sent = vec![
            (0..5).map(|i| i * 1_000_000).collect::<Vec<u64>>(),
            vec![0, 1_000_000],
        ];
        let mut a = Inbox::new(2, 100);
        for seq in [0, 2, 2] {
            a.receive(0, seq);
        }
        a.receive(1, 0);
        a.receive(1, 1);
        // Seq 1 of publisher 0 was skipped (lost); 3 and 4 are still in flight.
        let mut b = Inbox::new(2, 100);
        b.receive(0, 0);
        b.dropped = true;
        let mut ages = Vec::new();
        let f = settle(&[a, b], &sent, 10_000_000, |age| ages.push(age));
        assert_eq!(f.published, 7);
        assert_eq!(f.expected, 14);
        assert_eq!(f.delivered, 5);
        assert_eq!(f.duplicated, 1);
        assert_eq!(f.lost, 1 + 6);
        assert_eq!(f.in_flight, 2);
        assert_eq!(f.delivered + f.lost + f.in_flight, f.expected);
        assert_eq!(ages, vec![7_000, 6_000]);
        assert_eq!(f.delivery_ratio, Some(5.0 / 14.0));
        let none = settle(&[Inbox::new(1, 10)], &[vec![]], 0, |_| {});
        assert_eq!(none.delivery_ratio, None);
    }
}
