//! Who is acting: a signed-in official, a citizen or business (and how their account was
//! verified), an integration acting on the deployment's behalf (the National Public Service
//! Portal, the national document hub), or the system itself (imports, workers, the CLI).
//!
//! Only officials hold roles; what the others may do is written out in `authz`: a citizen
//! reaches their own dossiers only, an integration submits and reports but never signs, seals
//! or decides.

use crate::AppError;

/// How a citizen's or business's account was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// A one-time code sent by this deployment to a phone number or e-mail address.
    LocalOtp,
    /// The national electronic identity (VNeID), through the National Public Service Portal.
    NationalEid,
}

/// An outside system acting on the deployment's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Integration {
    /// The National Public Service Portal (dossiers submitted there, payments made there).
    NationalPortal,
    /// The national document hub (documents from agencies outside the province).
    DocumentHub,
}

impl Integration {
    pub fn as_str(self) -> &'static str {
        match self {
            Integration::NationalPortal => "national_portal",
            Integration::DocumentHub => "document_hub",
        }
    }
}

/// What kind of actor this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// The deployment itself: may do anything.
    System,
    /// A signed-in official, with the roles granted to them (`person_id` is set).
    Official,
    /// A citizen or business, the applicant on record `applicant_id`.
    Citizen {
        applicant_id: i64,
        verified: Verification,
    },
    Integration(Integration),
}

/// The author of a change, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The official acting; None for everyone else.
    pub person_id: Option<i64>,
    pub username: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub kind: ActorKind,
}

impl Actor {
    pub fn system(what: &str) -> Self {
        Actor::new(None, format!("system:{what}"), ActorKind::System)
    }

    pub fn person(id: i64, username: impl Into<String>) -> Self {
        Actor::new(Some(id), username.into(), ActorKind::Official)
    }

    /// A citizen or business signed in as the applicant on record `applicant_id`.
    pub fn citizen(applicant_id: i64, verified: Verification) -> Self {
        Actor::new(
            None,
            format!("citizen:{applicant_id}"),
            ActorKind::Citizen {
                applicant_id,
                verified,
            },
        )
    }

    pub fn integration(which: Integration) -> Self {
        Actor::new(
            None,
            format!("integration:{}", which.as_str()),
            ActorKind::Integration(which),
        )
    }

    fn new(person_id: Option<i64>, username: String, kind: ActorKind) -> Self {
        Actor {
            person_id,
            username,
            ip: None,
            request_id: None,
            kind,
        }
    }

    pub fn with_request(mut self, ip: Option<String>, request_id: Option<String>) -> Self {
        self.ip = ip;
        self.request_id = request_id;
        self
    }

    pub fn is_system(&self) -> bool {
        self.kind == ActorKind::System
    }

    /// For the use cases of officials: the official's person id, None for the system (which
    /// may do anything), and `forbidden` for citizens and integrations.
    pub fn official(&self) -> Result<Option<i64>, AppError> {
        match self.kind {
            ActorKind::System => Ok(None),
            ActorKind::Official => self.person_id.map(Some).ok_or_else(AppError::forbidden),
            ActorKind::Citizen { .. } | ActorKind::Integration(_) => Err(AppError::forbidden()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_officials_and_the_system_pass_the_officials_door() {
        assert_eq!(Actor::system("x").official().unwrap(), None);
        assert_eq!(Actor::person(5, "a").official().unwrap(), Some(5));
        assert_eq!(
            Actor::citizen(9, Verification::NationalEid)
                .official()
                .unwrap_err()
                .code,
            "forbidden"
        );
        let portal = Actor::integration(Integration::NationalPortal);
        assert_eq!(portal.official().unwrap_err().code, "forbidden");
        assert!(!portal.is_system());
        assert_eq!(portal.username, "integration:national_portal");
        assert_eq!(Actor::citizen(9, Verification::LocalOtp).person_id, None);
    }
}
