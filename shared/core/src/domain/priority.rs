use super::stored_text::stored_enum;

stored_enum! {
    /// A message's lane. A run claims due messages strictly by lane, high first, and first due
    /// first inside one, so a one-time code never waits behind a campaign. Stored as its lane
    /// number (`lane`), named on the wire.
    #[derive(Default)]
    pub enum Priority, unknown UnknownPriority "priority" {
        /// Transactional: one-time codes, payment confirmations.
        High => "high",
        /// The default.
        #[default]
        Normal => "normal",
        /// Bulk: campaigns, newsletters.
        Low => "low",
    }
}

impl Priority {
    /// The lanes in claim order.
    pub const LANES: usize = 3;

    /// The lane number, 0 first: its stored form and its index in [`Priority::ALL`].
    pub fn lane(self) -> i16 {
        match self {
            Self::High => 0,
            Self::Normal => 1,
            Self::Low => 2,
        }
    }

    /// The priority of a stored lane number.
    pub fn of_lane(lane: i16) -> Option<Self> {
        Self::ALL.get(usize::try_from(lane).ok()?).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_number_the_priorities_in_claim_order() {
        for (index, priority) in Priority::ALL.iter().enumerate() {
            assert_eq!(usize::try_from(priority.lane()).unwrap(), index);
            assert_eq!(Priority::of_lane(priority.lane()), Some(*priority));
        }
        assert_eq!(Priority::ALL.len(), Priority::LANES);
        assert_eq!(Priority::of_lane(3), None);
        assert_eq!(Priority::of_lane(-1), None);
    }
}
