//! Verification of pageref (see the tests).
