//! Documents and work records (quản lý văn bản và hồ sơ công việc), Decree 30/2020: kinds and
//! marks, numbers and notations, the outgoing and incoming flows, work-file codes.

pub mod file;
pub mod flow;
pub mod kind;
pub mod notation;
