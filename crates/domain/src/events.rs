//! Domain events: what happened to a dossier or a document, as the integrations that follow it
//! need to hear it — the national portal's synchronisation (every dossier and step, QĐ 766),
//! the document exchange, notifications and the scorecard's summaries.
//!
//! Events are numbered per aggregate (version 1, 2, …) and read in that order; there is no
//! meaning in the order of events of different aggregates.

use serde::{Deserialize, Serialize};

use crate::onestop::dossier::{Event as DossierEvent, State};

/// What an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    Dossier,
    Document,
}
names!(Aggregate {
    Dossier = "dossier",
    Document = "document",
});

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A dossier was submitted (national status 1): online, or handed in at the counter.
    DossierSubmitted,
    /// A dossier was received: it has a receipt and an appointment.
    DossierReceived,
    /// A processing step was finished (and the dossier moved on).
    StepDone,
    /// The citizen was asked to supplement the dossier.
    SupplementRequested,
    /// The result is ready to be returned.
    ResultReady,
    /// A fee was paid.
    Paid,
    /// The dossier's national status changed (the status the national portal tracks).
    StatusChanged,
    /// An outgoing document was issued: registered, numbered and sent.
    DocumentIssued,
}
names!(EventKind {
    DossierSubmitted = "dossier_submitted",
    DossierReceived = "dossier_received",
    StepDone = "step_done",
    SupplementRequested = "supplement_requested",
    ResultReady = "result_ready",
    Paid = "paid",
    StatusChanged = "status_changed",
    DocumentIssued = "document_issued",
});

impl EventKind {
    /// The aggregate an event of this kind is about.
    pub fn aggregate(self) -> Aggregate {
        match self {
            EventKind::DocumentIssued => Aggregate::Document,
            _ => Aggregate::Dossier,
        }
    }
}

/// The events a dossier's state-machine event makes, in order: what happened, then the national
/// status change if there was one.
pub fn of_dossier(event: DossierEvent, from: State, to: State) -> Vec<EventKind> {
    let mut out = match event {
        DossierEvent::Receive => vec![EventKind::DossierReceived],
        DossierEvent::Transfer => vec![EventKind::StepDone],
        DossierEvent::Finish => vec![EventKind::StepDone, EventKind::ResultReady],
        DossierEvent::RequestSupplement => vec![EventKind::SupplementRequested],
        DossierEvent::PaymentReceived => vec![EventKind::Paid],
        _ => Vec::new(),
    };
    if from.national_code() != to.national_code() {
        out.push(EventKind::StatusChanged);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dossier_event_says_what_happened_then_the_status_change() {
        use EventKind::*;
        assert_eq!(
            of_dossier(DossierEvent::Receive, State::Submitted, State::Processing),
            [DossierReceived, StatusChanged]
        );
        assert_eq!(
            of_dossier(DossierEvent::Transfer, State::Processing, State::Processing),
            [StepDone]
        );
        assert_eq!(
            of_dossier(DossierEvent::Finish, State::Processing, State::ResultReady),
            [StepDone, ResultReady, StatusChanged]
        );
        assert_eq!(
            of_dossier(DossierEvent::Assign, State::Processing, State::Processing),
            [] as [EventKind; 0]
        );
        assert_eq!(
            of_dossier(DossierEvent::Withdraw, State::Processing, State::Withdrawn),
            [StatusChanged]
        );
    }

    #[test]
    fn names_round_trip_and_match_serde() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(*k));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::Value::String(k.as_str().into())
            );
        }
        for a in Aggregate::ALL {
            assert_eq!(Aggregate::parse(a.as_str()), Some(*a));
        }
        assert_eq!(EventKind::parse("issued"), None);
        assert_eq!(EventKind::DocumentIssued.aggregate(), Aggregate::Document);
        assert_eq!(EventKind::Paid.aggregate(), Aggregate::Dossier);
    }
}
