//! Checks of the repository itself: citations point inside it, test-only code stays in tests.

mod citations;
mod test_support_feature;
