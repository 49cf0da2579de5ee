//! Oversight (R8 as a whole, R17, R18, R20): what the platform concludes
//! from everything it holds, beyond the verdict on one record.
//!
//! - `missed`: samplings whose witness window provably closed with no
//!   witnessing (R8, A4.1), decided on the server's clock.
//! - `draw`: "double random, one public" spot checks (R20) drawn from a seed
//!   nobody controls in advance, recomputable from the published inputs.
//! - `project`: early warnings about a project and its score (R17), from
//!   the tallies the server keeps as records arrive.
//! - `lab`: statistical signals over a lab's results (R17): each a named rule
//!   with its threshold, measured figure and evidence.
//!
//! Like the rest of the core these are pure functions: the server gathers
//! the facts, calls them, and stores or shows the answer.

pub mod draw;
pub mod lab;
pub mod missed;
pub mod project;
