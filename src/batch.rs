//! The unit that travels from the reading side through the processors to an output: events, and the
//! promise to say when they were delivered.
//!
//! Both sides import this module and neither imports the other: the reading side makes batches, the
//! pipeline runs processors over them, an output delivers them and acknowledges. What an
//! acknowledgement moves (the registry's offsets in the agent, nothing in a stateless `tail`) is behind
//! [`Acknowledge`], so an output never learns where its acknowledgements go.

use std::fmt::Debug;
use std::sync::Arc;

use crate::budget::Charge;
use crate::event::Event;

/// Events handed downstream together, so the channel and the output see a few large units rather than
/// many small ones. An output acknowledges a batch only once every event in it was delivered (or
/// settled for good: dropped, dead-lettered).
#[derive(Debug, Default)]
pub struct Batch {
    pub events: Vec<Event>,
    pub ack: Option<Ack>,
    /// The bytes of its lines, counted against `max_queued_bytes` until the batch is dropped (once
    /// an output wrote or encoded it).
    pub charge: Option<Charge>,
}

impl Batch {
    pub fn new(events: Vec<Event>, ack: Option<Ack>) -> Batch {
        Batch {
            events,
            ack,
            charge: None,
        }
    }

    /// Delivered: whatever the batch carries may now be recorded. A second call does nothing.
    pub fn acknowledge(&mut self) {
        if let Some(ack) = self.ack.take() {
            ack.ack();
        }
    }
}

/// Who hears that a batch was delivered.
pub trait Acknowledge: Debug + Send + Sync {
    fn acknowledge(&self, id: u64);
}

/// A batch's acknowledgement, taken apart from its events when they are encoded into a request.
/// Dropping it without [`Ack::ack`] leaves the batch undelivered: after a restart its lines are read again.
#[derive(Debug)]
pub struct Ack {
    id: u64,
    to: Arc<dyn Acknowledge>,
}

impl Ack {
    pub fn new(id: u64, to: Arc<dyn Acknowledge>) -> Ack {
        Ack { id, to }
    }

    pub fn ack(self) {
        self.to.acknowledge(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Debug, Default)]
    struct Heard(Mutex<Vec<u64>>);

    impl Acknowledge for Heard {
        fn acknowledge(&self, id: u64) {
            self.0.lock().unwrap().push(id);
        }
    }

    #[test]
    fn a_batch_is_acknowledged_once() {
        let heard = Arc::new(Heard::default());
        let mut batch = Batch::new(Vec::new(), Some(Ack::new(7, heard.clone())));
        batch.acknowledge();
        batch.acknowledge();
        assert_eq!(*heard.0.lock().unwrap(), [7]);
    }
}
