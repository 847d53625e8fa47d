//! The conformance cases, one public async function each, named as the sentence the test
//! proves. [`transport_conformance_tests!`](crate::transport_conformance_tests) turns each into
//! a test.

mod delivery;
mod failures;
mod outage;

pub use delivery::*;
pub use failures::*;
pub use outage::*;
