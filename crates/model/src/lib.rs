//! Pure view model (placeholder; see issue 4).
