//! Sorted set commands.

use bytes::Bytes;

use super::set::{numkeys_keys, parse_scan, reply_scan};
use super::{CommandSpec, Ctx};
use crate::config::params::{NOTIFY_GENERIC, NOTIFY_ZSET};
use crate::db::zset::{
    Entry, Limits, ZSet, DEFAULT_MAX_LISTPACK_ENTRIES, DEFAULT_MAX_LISTPACK_VALUE,
};
use crate::db::{Db, SBytes, Value};
use crate::util::{eq_ic, format_double_g17};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "zadd",
        arity: -4,
        flags: "write denyoom fast",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zadd_cmd,
        group: "sorted-set",
        since: "1.2.0",
        summary: "Add one or more members to a sorted set, or update its score if it already exists",
        complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zincrby",
        arity: 4,
        flags: "write denyoom fast",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zincrby_cmd,
        group: "sorted-set",
        since: "1.2.0",
        summary: "Increment the score of a member in a sorted set",
        complexity: "O(log(N)) where N is the number of elements in the sorted set.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrem",
        arity: -3,
        flags: "write fast",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zrem_cmd,
        group: "sorted-set",
        since: "1.2.0",
        summary: "Remove one or more members from a sorted set",
        complexity: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zcard",
        arity: 2,
        flags: "readonly fast",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zcard_cmd,
        group: "sorted-set",
        since: "1.2.0",
        summary: "Get the number of members in a sorted set",
        complexity: "O(1)",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zscore",
        arity: 3,
        flags: "readonly fast",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zscore_cmd,
        group: "sorted-set",
        since: "1.2.0",
        summary: "Get the score associated with the given member in a sorted set",
        complexity: "O(1)",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zmscore",
        arity: -3,
        flags: "readonly fast",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zmscore_cmd,
        group: "sorted-set",
        since: "6.2.0",
        summary: "Get the score associated with the given members in a sorted set",
        complexity: "O(N) where N is the number of members being requested.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrank",
        arity: 3,
        flags: "readonly fast",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zrank_cmd,
        group: "sorted-set",
        since: "2.0.0",
        summary: "Determine the index of a member in a sorted set",
        complexity: "O(log(N))",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrevrank",
        arity: 3,
        flags: "readonly fast",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zrevrank_cmd,
        group: "sorted-set",
        since: "2.0.0",
        summary: "Determine the index of a member in a sorted set, with scores ordered from high to low",
        complexity: "O(log(N))",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zcount",
        arity: 4,
        flags: "readonly fast",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zcount_cmd,
        group: "sorted-set",
        since: "2.0.0",
        summary: "Count the members in a sorted set with scores within the given values",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zlexcount",
        arity: 4,
        flags: "readonly fast",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zlexcount_cmd,
        group: "sorted-set",
        since: "2.8.9",
        summary: "Count the number of members in a sorted set between a given lexicographical range",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrange",
        arity: -4,
        flags: "readonly",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zrange_cmd,
        group: "sorted-set",
        since: "1.2.0",
        summary: "Return a range of members in a sorted set",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrangestore",
        arity: -5,
        flags: "write denyoom",
        acl: "sortedset",
        first_key: 1,
        last_key: 2,
        step: 1,
        handler: zrangestore_cmd,
        group: "sorted-set",
        since: "6.2.0",
        summary: "Store a range of members from sorted set into another key",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrangebyscore",
        arity: -4,
        flags: "readonly",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zrangebyscore_cmd,
        group: "sorted-set",
        since: "1.0.5",
        summary: "Return a range of members in a sorted set, by score",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrevrangebyscore",
        arity: -4,
        flags: "readonly",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zrevrangebyscore_cmd,
        group: "sorted-set",
        since: "2.2.0",
        summary: "Return a range of members in a sorted set, by score, with scores ordered from high to low",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrangebylex",
        arity: -4,
        flags: "readonly",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zrangebylex_cmd,
        group: "sorted-set",
        since: "2.8.9",
        summary: "Return a range of members in a sorted set, by lexicographical range",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrevrangebylex",
        arity: -4,
        flags: "readonly",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zrevrangebylex_cmd,
        group: "sorted-set",
        since: "2.8.9",
        summary: "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrevrange",
        arity: -4,
        flags: "readonly",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zrevrange_cmd,
        group: "sorted-set",
        since: "1.2.0",
        summary: "Return a range of members in a sorted set, by index, with scores ordered from high to low",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zremrangebyrank",
        arity: 4,
        flags: "write",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zremrangebyrank_cmd,
        group: "sorted-set",
        since: "2.0.0",
        summary: "Remove all members in a sorted set within the given indexes",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zremrangebyscore",
        arity: 4,
        flags: "write",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zremrangebyscore_cmd,
        group: "sorted-set",
        since: "1.2.0",
        summary: "Remove all members in a sorted set within the given scores",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zremrangebylex",
        arity: 4,
        flags: "write",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zremrangebylex_cmd,
        group: "sorted-set",
        since: "2.8.9",
        summary: "Remove all members in a sorted set between the given lexicographical range",
        complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zpopmin",
        arity: -2,
        flags: "write fast",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zpopmin_cmd,
        group: "sorted-set",
        since: "5.0.0",
        summary: "Remove and return members with the lowest scores in a sorted set",
        complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zpopmax",
        arity: -2,
        flags: "write fast",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zpopmax_cmd,
        group: "sorted-set",
        since: "5.0.0",
        summary: "Remove and return members with the highest scores in a sorted set",
        complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bzpopmin",
        arity: -3,
        flags: "write noscript blocking fast",
        acl: "sortedset",
        first_key: 1,
        last_key: -2,
        step: 1,
        handler: bzpopmin_cmd,
        group: "sorted-set",
        since: "5.0.0",
        summary: "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bzpopmax",
        arity: -3,
        flags: "write noscript blocking fast",
        acl: "sortedset",
        first_key: 1,
        last_key: -2,
        step: 1,
        handler: bzpopmax_cmd,
        group: "sorted-set",
        since: "5.0.0",
        summary: "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
        complexity: "O(log(N)) with N being the number of elements in the sorted set.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bzmpop",
        arity: -5,
        flags: "write blocking",
        acl: "sortedset",
        handler: bzmpop_cmd,
        getkeys: Some(bzmpop_keys),
        group: "sorted-set",
        since: "7.0.0",
        summary: "Remove and return members with scores in a sorted set or block until one is available",
        complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zmpop",
        arity: -4,
        flags: "write",
        acl: "sortedset",
        first_key: 0,
        last_key: 0,
        step: 0,
        handler: zmpop_cmd,
        getkeys: Some(zmpop_keys),
        group: "sorted-set",
        since: "7.0.0",
        summary: "Remove and return members with scores in a sorted set",
        complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zrandmember",
        arity: -2,
        flags: "readonly",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zrandmember_cmd,
        group: "sorted-set",
        since: "6.2.0",
        summary: "Get one or multiple random elements from a sorted set",
        complexity: "O(N) where N is the number of elements returned",
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zunion",
        arity: -3,
        flags: "readonly",
        acl: "sortedset",
        first_key: 0,
        last_key: 0,
        step: 0,
        handler: zunion_cmd,
        getkeys: Some(zunion_keys),
        group: "sorted-set",
        since: "6.2.0",
        summary: "Add multiple sorted sets",
        complexity: "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zinter",
        arity: -3,
        flags: "readonly",
        acl: "sortedset",
        first_key: 0,
        last_key: 0,
        step: 0,
        handler: zinter_cmd,
        getkeys: Some(zinter_keys),
        group: "sorted-set",
        since: "6.2.0",
        summary: "Intersect multiple sorted sets",
        complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zdiff",
        arity: -3,
        flags: "readonly",
        acl: "sortedset",
        first_key: 0,
        last_key: 0,
        step: 0,
        handler: zdiff_cmd,
        getkeys: Some(zdiff_keys),
        group: "sorted-set",
        since: "6.2.0",
        summary: "Subtract multiple sorted sets",
        complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zunionstore",
        arity: -4,
        flags: "write denyoom",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zunionstore_cmd,
        getkeys: Some(zunionstore_keys),
        group: "sorted-set",
        since: "2.0.0",
        summary: "Add multiple sorted sets and store the resulting sorted set in a new key",
        complexity: "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zinterstore",
        arity: -4,
        flags: "write denyoom",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zinterstore_cmd,
        getkeys: Some(zinterstore_keys),
        group: "sorted-set",
        since: "2.0.0",
        summary: "Intersect multiple sorted sets and store the resulting sorted set in a new key",
        complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zdiffstore",
        arity: -4,
        flags: "write denyoom",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zdiffstore_cmd,
        getkeys: Some(zdiffstore_keys),
        group: "sorted-set",
        since: "6.2.0",
        summary: "Subtract multiple sorted sets and store the resulting sorted set in a new key",
        complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zintercard",
        arity: -3,
        flags: "readonly",
        acl: "sortedset",
        first_key: 0,
        last_key: 0,
        step: 0,
        handler: zintercard_cmd,
        getkeys: Some(zintercard_keys),
        group: "sorted-set",
        since: "7.0.0",
        summary: "Intersect multiple sorted sets and return the cardinality of the result",
        complexity: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "zscan",
        arity: -3,
        flags: "readonly",
        acl: "sortedset",
        first_key: 1,
        last_key: 1,
        step: 1,
        handler: zscan_cmd,
        group: "sorted-set",
        since: "2.8.0",
        summary: "Incrementally iterate sorted sets elements and associated scores",
        complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        tips: &["nondeterministic_output"],
        ..CommandSpec::DEFAULT
    },
];

/// zset-max-listpack-entries / zset-max-listpack-value.
pub fn limits(ctx: &Ctx) -> Limits {
    let cfg = &ctx.srv.config;
    let get = |v: i64, def: usize| if v < 0 { def } else { v as usize };
    Limits {
        entries: get(cfg.zset_max_listpack_entries, DEFAULT_MAX_LISTPACK_ENTRIES),
        value: get(cfg.zset_max_listpack_value, DEFAULT_MAX_LISTPACK_VALUE),
    }
}

pub(crate) fn read_z<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a mut ZSet>, ()> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(o) => match &mut o.val {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(()),
        },
    }
}

fn write_z<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a mut ZSet>, ()> {
    match ctx.lookup_write(key) {
        None => Ok(None),
        Some(o) => match &mut o.val {
            Value::ZSet(z) => Ok(Some(z)),
            _ => Err(()),
        },
    }
}

/// Delete `key` if its sorted set became empty (with the "del" event).
fn del_if_empty(ctx: &mut Ctx, key: &[u8]) -> bool {
    let empty =
        matches!(ctx.db().dict.get(key).map(|o| &o.val), Some(Value::ZSet(z)) if z.is_empty());
    if empty {
        ctx.db().remove(key);
        ctx.notify(NOTIFY_GENERIC, "del", key);
    }
    empty
}

/// Parse a double as strtod does for range bounds: an empty string is 0,
/// leading blanks are skipped.
fn strtod_full(b: &[u8]) -> Option<f64> {
    if b.is_empty() {
        return Some(0.0);
    }
    let t = b.iter().position(|c| !c.is_ascii_whitespace())?;
    crate::util::parse_f64(&b[t..])
}

/// A score interval.
#[derive(Clone, Copy)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

impl ScoreRange {
    pub fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        let one = |b: &[u8]| -> Option<(f64, bool)> {
            if b.first() == Some(&b'(') {
                Some((strtod_full(&b[1..])?, true))
            } else {
                Some((strtod_full(b)?, false))
            }
        };
        let (min, minex) = one(min)?;
        let (max, maxex) = one(max)?;
        Some(ScoreRange {
            min,
            max,
            minex,
            maxex,
        })
    }
    fn below_min(&self, s: f64) -> bool {
        if self.minex {
            s <= self.min
        } else {
            s < self.min
        }
    }
    fn within_max(&self, s: f64) -> bool {
        if self.maxex {
            s < self.max
        } else {
            s <= self.max
        }
    }
    /// Ranks lo..hi of the entries inside the range.
    pub fn bounds(&self, z: &ZSet) -> (usize, usize) {
        let lo = z.tree.partition_point(|e| self.below_min(e.0));
        let hi = z.tree.partition_point(|e| self.within_max(e.0));
        (lo, hi.max(lo))
    }
}

#[derive(Clone)]
pub enum LexBound {
    Min,
    Max,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

#[derive(Clone)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    pub fn parse(min: &[u8], max: &[u8]) -> Option<LexRange> {
        let one = |b: &[u8]| -> Option<LexBound> {
            match b.first()? {
                b'+' if b.len() == 1 => Some(LexBound::Max),
                b'-' if b.len() == 1 => Some(LexBound::Min),
                b'(' => Some(LexBound::Excl(b[1..].to_vec())),
                b'[' => Some(LexBound::Incl(b[1..].to_vec())),
                _ => None,
            }
        };
        Some(LexRange {
            min: one(min)?,
            max: one(max)?,
        })
    }
    fn below_min(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(v) => m < v.as_slice(),
            LexBound::Excl(v) => m <= v.as_slice(),
        }
    }
    fn within_max(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(v) => m <= v.as_slice(),
            LexBound::Excl(v) => m < v.as_slice(),
        }
    }
    /// Ranks lo..hi of the entries inside the range. Lex ranges assume
    /// equal scores; for a listpack Redis scans linearly (the first member
    /// not below min, then on while not above max), which we reproduce so
    /// that mixed scores give the same answers.
    pub fn bounds(&self, z: &ZSet) -> (usize, usize) {
        if z.dict.is_none() {
            if !self.listpack_in_range(z) {
                return (0, 0);
            }
            let Some(lo) = z.tree.iter().position(|e| !self.below_min(&e.1)) else {
                return (0, 0);
            };
            let run = z
                .tree
                .iter_from(lo)
                .take_while(|e| self.within_max(&e.1))
                .count();
            return (lo, lo + run);
        }
        let lo = z.tree.partition_point(|e| self.below_min(&e.1));
        let hi = z.tree.partition_point(|e| self.within_max(&e.1));
        (lo, hi.max(lo))
    }

    /// Is the range non-empty and could it overlap the listpack (its last
    /// member >= min, its first <= max)?
    fn listpack_in_range(&self, z: &ZSet) -> bool {
        fn rank(b: &LexBound) -> (u8, Option<&[u8]>) {
            match b {
                LexBound::Min => (0, None),
                LexBound::Max => (2, None),
                LexBound::Incl(v) | LexBound::Excl(v) => (1, Some(v.as_slice())),
            }
        }
        let (a, b) = (rank(&self.min), rank(&self.max));
        let cmp = a.0.cmp(&b.0).then(a.1.cmp(&b.1));
        let ex = matches!(self.min, LexBound::Excl(_)) || matches!(self.max, LexBound::Excl(_));
        if cmp == std::cmp::Ordering::Greater || (cmp == std::cmp::Ordering::Equal && ex) {
            return false;
        }
        let n = z.len();
        match (z.tree.get(n.wrapping_sub(1)), z.tree.get(0)) {
            (Some(last), Some(first)) => !self.below_min(&last.1) && self.within_max(&first.1),
            _ => false,
        }
    }

    /// ZRANGEBYLEX over a listpack exactly as Redis walks it: find the
    /// first (or, reversed, last) member in range, skip `offset`, then emit
    /// while still inside the far bound.
    fn listpack_select(&self, z: &ZSet, rev: bool, offset: i64, limit: i64) -> Vec<Entry> {
        if !self.listpack_in_range(z) || offset < 0 {
            return Vec::new();
        }
        let n = z.len();
        let take = if limit < 0 {
            usize::MAX
        } else {
            limit as usize
        };
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        if rev {
            let Some(hi) = z
                .tree
                .iter_rev_from(n - 1)
                .position(|e| self.within_max(&e.1))
            else {
                return Vec::new();
            };
            let hi = n - 1 - hi;
            match z.tree.get(hi) {
                Some(e) if !self.below_min(&e.1) => {}
                _ => return Vec::new(),
            }
            z.tree
                .iter_rev_from(hi)
                .skip(skip)
                .take(take)
                .take_while(|e| !self.below_min(&e.1))
                .cloned()
                .collect()
        } else {
            let Some(lo) = z.tree.iter().position(|e| !self.below_min(&e.1)) else {
                return Vec::new();
            };
            match z.tree.get(lo) {
                Some(e) if self.within_max(&e.1) => {}
                _ => return Vec::new(),
            }
            z.tree
                .iter_from(lo)
                .skip(skip)
                .take(take)
                .take_while(|e| self.within_max(&e.1))
                .cloned()
                .collect()
        }
    }
}

/// Entries of ranks lo..hi, optionally reversed, after skipping `offset`
/// and taking at most `limit` (negative: all).
fn slice(z: &ZSet, lo: usize, hi: usize, rev: bool, offset: i64, limit: i64) -> Vec<Entry> {
    if hi <= lo || offset < 0 {
        return Vec::new();
    }
    let n = hi - lo;
    let off = offset as u64;
    if off >= n as u64 {
        return Vec::new();
    }
    let off = off as usize;
    let take = if limit < 0 {
        n - off
    } else {
        (limit as u64).min((n - off) as u64) as usize
    };
    if rev {
        z.tree
            .iter_rev_from(hi - 1 - off)
            .take(take)
            .cloned()
            .collect()
    } else {
        z.tree.iter_from(lo + off).take(take).cloned().collect()
    }
}

/// Sanitize a rank range as Redis does; None when empty.
fn rank_bounds(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let mut end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, end as usize))
}

/// Scores that are small integers print the same under %.17g as in
/// decimal; format those without the general (slow) path.
fn small_int(d: f64) -> Option<i64> {
    if d.fract() == 0.0 && d.abs() < 1e15 && !(d == 0.0 && d.is_sign_negative()) {
        Some(d as i64)
    } else {
        None
    }
}

/// A score as Redis's addReplyDouble writes it.
pub fn put_score(r: &mut crate::protocol::Reply, d: f64) {
    match small_int(d) {
        Some(n) => {
            let s = n.to_string();
            if r.resp >= 3 {
                r.raw(b",");
                r.raw(s.as_bytes());
                r.raw(b"\r\n");
            } else {
                r.bulk(s.as_bytes());
            }
        }
        None => r.double(d),
    }
}

/// A score as text (%.17g), for ZSCAN.
fn score_string(d: f64) -> String {
    match small_int(d) {
        Some(n) => n.to_string(),
        None => format_double_g17(d),
    }
}

/// Reply entries as ZRANGE does: flat in RESP2 (member, score...), pairs
/// in RESP3 when with scores.
fn reply_entries(ctx: &mut Ctx, v: &[Entry], withscores: bool) {
    let r = ctx.reply();
    let resp3 = r.resp >= 3;
    if withscores && !resp3 {
        r.array(v.len() * 2);
    } else {
        r.array(v.len());
    }
    for e in v {
        if withscores && resp3 {
            r.array(2);
        }
        r.bulk(&e.1);
        if withscores {
            put_score(r, e.0);
        }
    }
}

// ---------------------------------------------------------------- ZADD

const Z_NX: u8 = 1;
const Z_XX: u8 = 2;
const Z_GT: u8 = 4;
const Z_LT: u8 = 8;
const Z_INCR: u8 = 16;
const Z_CH: u8 = 32;

const NAN_ERR: &str = "ERR resulting score is not a number (NaN)";

enum AddOutcome {
    Added(f64),
    Updated(f64),
    Same(f64),
    Nop,
    Nan,
}

fn zset_add(z: &mut ZSet, m: &[u8], score: f64, fl: u8, lim: Limits) -> AddOutcome {
    if score.is_nan() {
        return AddOutcome::Nan;
    }
    let mut out = AddOutcome::Nop;
    z.upsert(m, lim, |cur| match cur {
        Some(cur) => {
            if fl & Z_NX != 0 {
                return None;
            }
            let mut score = score;
            if fl & Z_INCR != 0 {
                score += cur;
                if score.is_nan() {
                    out = AddOutcome::Nan;
                    return None;
                }
            }
            if (fl & Z_LT != 0 && score >= cur) || (fl & Z_GT != 0 && score <= cur) {
                return None;
            }
            if score != cur {
                out = AddOutcome::Updated(score);
                Some(score)
            } else {
                out = AddOutcome::Same(score);
                None
            }
        }
        None => {
            if fl & Z_XX != 0 {
                return None;
            }
            out = AddOutcome::Added(score);
            Some(score)
        }
    });
    out
}

/// Add every (score, member) of ZADD to `z`: (added, updated, processed,
/// last score, NaN met).
fn zadd_all(
    z: &mut ZSet,
    pairs: &[Bytes],
    scores: &[f64],
    fl: u8,
    lim: Limits,
) -> (u64, u64, u64, f64, bool) {
    let (mut added, mut updated, mut processed, mut last) = (0u64, 0u64, 0u64, 0.0);
    for (j, &s) in scores.iter().enumerate() {
        match zset_add(z, &pairs[1 + j * 2], s, fl, lim) {
            AddOutcome::Added(s) => {
                added += 1;
                processed += 1;
                last = s;
            }
            AddOutcome::Updated(s) => {
                updated += 1;
                processed += 1;
                last = s;
            }
            AddOutcome::Same(s) => {
                processed += 1;
                last = s;
            }
            AddOutcome::Nop => {}
            AddOutcome::Nan => return (added, updated, processed, last, true),
        }
    }
    (added, updated, processed, last, false)
}

fn zadd_generic(ctx: &mut Ctx, argv: &[Bytes], mut fl: u8) {
    let key = &argv[1];
    let mut idx = 2;
    while idx < argv.len() {
        let o = &argv[idx];
        let f = if eq_ic(o, "nx") {
            Z_NX
        } else if eq_ic(o, "xx") {
            Z_XX
        } else if eq_ic(o, "ch") {
            Z_CH
        } else if eq_ic(o, "incr") {
            Z_INCR
        } else if eq_ic(o, "gt") {
            Z_GT
        } else if eq_ic(o, "lt") {
            Z_LT
        } else {
            break;
        };
        fl |= f;
        idx += 1;
    }
    let elements = argv.len() - idx;
    if !elements.is_multiple_of(2) || elements == 0 {
        return ctx.syntax_error();
    }
    let elements = elements / 2;
    let (nx, xx, gt, lt, incr) = (
        fl & Z_NX != 0,
        fl & Z_XX != 0,
        fl & Z_GT != 0,
        fl & Z_LT != 0,
        fl & Z_INCR != 0,
    );
    if nx && xx {
        return ctx.error("ERR XX and NX options at the same time are not compatible");
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return ctx.error("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if incr && elements > 1 {
        return ctx.error("ERR INCR option supports a single increment-element pair");
    }
    let mut scores = Vec::with_capacity(elements);
    for j in 0..elements {
        match ctx.float_arg(&argv[idx + j * 2]) {
            Some(s) => scores.push(s),
            None => return,
        }
    }
    let lim = limits(ctx);
    let pairs = &argv[idx..];
    // One key lookup when the set exists (the common case).
    let res = match write_z(ctx, key) {
        Err(()) => return ctx.wrongtype(),
        Ok(Some(z)) => Some(zadd_all(z, pairs, &scores, fl, lim)),
        Ok(None) => None,
    };
    let (added, updated, processed, last, nan) = match res {
        Some(r) => r,
        None if xx => (0, 0, 0, 0.0, false),
        None => {
            let z = ZSet::new_for(lim, argv[idx + 1].len());
            ctx.db().set(key, Value::ZSet(Box::new(z)));
            // Clients blocked in BZPOPMIN & co may be waiting for this key.
            ctx.signal_key_ready(key);
            let Ok(Some(z)) = write_z(ctx, key) else {
                return;
            };
            zadd_all(z, pairs, &scores, fl, lim)
        }
    };
    if nan {
        ctx.error(NAN_ERR);
    } else {
        ctx.dirty(added + updated);
        if incr {
            if processed > 0 {
                put_score(ctx.reply(), last);
            } else {
                ctx.reply().null();
            }
        } else {
            let n = if fl & Z_CH != 0 {
                added + updated
            } else {
                added
            };
            ctx.reply().int(n as i64);
        }
    }
    if added + updated > 0 {
        ctx.signal_modified(key);
        ctx.notify(NOTIFY_ZSET, if incr { "zincr" } else { "zadd" }, key);
    }
}

pub(crate) fn zadd_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zadd_generic(ctx, argv, 0);
}

fn zincrby_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zadd_generic(ctx, argv, Z_INCR);
}

fn zrem_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let key = &argv[1];
    let deleted = match write_z(ctx, key) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => 0,
        Ok(Some(z)) => {
            let mut n = 0;
            for m in &argv[2..] {
                if z.remove(m) {
                    n += 1;
                }
                if z.is_empty() {
                    break;
                }
            }
            n
        }
    };
    if deleted > 0 {
        ctx.notify(NOTIFY_ZSET, "zrem", key);
        del_if_empty(ctx, key);
        ctx.signal_modified(key);
        ctx.dirty(deleted);
    }
    ctx.reply().int(deleted as i64);
}

fn zcard_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    match read_z(ctx, &argv[1]) {
        Err(()) => ctx.wrongtype(),
        Ok(z) => {
            let n = z.map(|z| z.len()).unwrap_or(0);
            ctx.reply().int(n as i64)
        }
    }
}

fn zscore_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    match read_z(ctx, &argv[1]) {
        Err(()) => ctx.wrongtype(),
        Ok(z) => match z.and_then(|z| z.score(&argv[2])) {
            Some(s) => put_score(ctx.reply(), s),
            None => ctx.reply().null(),
        },
    }
}

fn zmscore_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let v: Vec<Option<f64>> = match read_z(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(z) => argv[2..]
            .iter()
            .map(|m| z.as_ref().and_then(|z| z.score(m)))
            .collect(),
    };
    let r = ctx.reply();
    r.array(v.len());
    for s in v {
        match s {
            Some(s) => put_score(r, s),
            None => r.null(),
        }
    }
}

fn zrank_generic(ctx: &mut Ctx, argv: &[Bytes], rev: bool) {
    let r = match read_z(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => None,
        Ok(Some(z)) => z
            .rank(&argv[2])
            .map(|r| if rev { z.len() - 1 - r } else { r }),
    };
    match r {
        Some(r) => ctx.reply().int(r as i64),
        None => ctx.reply().null(),
    }
}

fn zrank_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zrank_generic(ctx, argv, false);
}

fn zrevrank_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zrank_generic(ctx, argv, true);
}

fn zcount_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(range) = ScoreRange::parse(&argv[2], &argv[3]) else {
        return ctx.error("ERR min or max is not a float");
    };
    count_between(ctx, &argv[1], |z| range.bounds(z));
}

fn zlexcount_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(range) = LexRange::parse(&argv[2], &argv[3]) else {
        return ctx.error("ERR min or max not valid string range item");
    };
    count_between(ctx, &argv[1], |z| range.bounds(z));
}

/// ZCOUNT / ZLEXCOUNT: the width of the rank interval `bounds` finds.
fn count_between(ctx: &mut Ctx, key: &[u8], bounds: impl Fn(&ZSet) -> (usize, usize)) {
    let n = match read_z(ctx, key) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => 0,
        Ok(Some(z)) => {
            let (lo, hi) = bounds(z);
            hi - lo
        }
    };
    ctx.reply().int(n as i64);
}

// ---------------------------------------------------------------- ZRANGE

#[derive(Clone, Copy, PartialEq)]
enum RType {
    Auto,
    Rank,
    Score,
    Lex,
}

#[derive(Clone, Copy, PartialEq)]
enum Dir {
    Auto,
    Fwd,
    Rev,
}

fn zrange_generic(
    ctx: &mut Ctx,
    argv: &[Bytes],
    at: usize,
    store: bool,
    mut rt: RType,
    mut dir: Dir,
) {
    let key = &argv[at];
    let (mut minidx, mut maxidx) = (at + 1, at + 2);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = at + 3;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = &argv[j];
        if !store && eq_ic(a, "withscores") {
            withscores = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            let Some(o) = ctx.int_arg(&argv[j + 1]) else {
                return;
            };
            let Some(l) = ctx.int_arg(&argv[j + 2]) else {
                return;
            };
            offset = o;
            limit = l;
            j += 2;
        } else if dir == Dir::Auto && eq_ic(a, "rev") {
            dir = Dir::Rev;
        } else if rt == RType::Auto && eq_ic(a, "bylex") {
            rt = RType::Lex;
        } else if rt == RType::Auto && eq_ic(a, "byscore") {
            rt = RType::Score;
        } else {
            return ctx.syntax_error();
        }
        j += 1;
    }
    if dir == Dir::Auto {
        dir = Dir::Fwd;
    }
    if rt == RType::Auto {
        rt = RType::Rank;
    }
    if limit != -1 && rt == RType::Rank {
        return ctx.error(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
    }
    if withscores && rt == RType::Lex {
        return ctx.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    let rev = dir == Dir::Rev;
    if rev && rt != RType::Rank {
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    enum R {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange),
    }
    let range = match rt {
        RType::Score => match ScoreRange::parse(&argv[minidx], &argv[maxidx]) {
            Some(r) => R::Score(r),
            None => return ctx.error("ERR min or max is not a float"),
        },
        RType::Lex => match LexRange::parse(&argv[minidx], &argv[maxidx]) {
            Some(r) => R::Lex(r),
            None => return ctx.error("ERR min or max not valid string range item"),
        },
        _ => {
            let Some(s) = ctx.int_arg(&argv[minidx]) else {
                return;
            };
            let Some(e) = ctx.int_arg(&argv[maxidx]) else {
                return;
            };
            R::Rank(s, e)
        }
    };
    let res: Vec<Entry> = match read_z(ctx, key) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => Vec::new(),
        Ok(Some(z)) => match &range {
            R::Rank(s, e) => match rank_bounds(*s, *e, z.len()) {
                None => Vec::new(),
                Some((s, e)) => {
                    if rev {
                        let n = z.len();
                        slice(z, n - 1 - e, n - s, true, 0, -1)
                    } else {
                        slice(z, s, e + 1, false, 0, -1)
                    }
                }
            },
            R::Score(r) => {
                let (lo, hi) = r.bounds(z);
                slice(z, lo, hi, rev, offset, limit)
            }
            R::Lex(r) if z.dict.is_none() => r.listpack_select(z, rev, offset, limit),
            R::Lex(r) => {
                let (lo, hi) = r.bounds(z);
                slice(z, lo, hi, rev, offset, limit)
            }
        },
    };
    if store {
        let lim = limits(ctx);
        store_result(ctx, &argv[1], res, lim, "zrangestore");
    } else {
        reply_entries(ctx, &res, withscores);
    }
}

/// Store entries (unique members) at dst, or delete dst when empty;
/// replies the cardinality.
pub(crate) fn store_result(ctx: &mut Ctx, dst: &[u8], res: Vec<Entry>, lim: Limits, event: &str) {
    let n = res.len();
    if n > 0 {
        let z = ZSet::from_pairs(res, lim);
        ctx.set_key(dst, Value::ZSet(Box::new(z)));
        ctx.signal_key_ready(dst);
        ctx.reply().int(n as i64);
        ctx.notify(NOTIFY_ZSET, event, dst);
        ctx.dirty(1);
    } else {
        ctx.reply().int(0);
        let now = ctx.now;
        if ctx.db().lookup(dst, now).is_some() {
            ctx.db().remove(dst);
            ctx.signal_modified(dst);
            ctx.notify(NOTIFY_GENERIC, "del", dst);
            ctx.dirty(1);
        }
    }
}

fn zrange_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zrange_generic(ctx, argv, 1, false, RType::Auto, Dir::Auto);
}
fn zrangestore_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zrange_generic(ctx, argv, 2, true, RType::Auto, Dir::Auto);
}
fn zrevrange_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zrange_generic(ctx, argv, 1, false, RType::Rank, Dir::Rev);
}
fn zrangebyscore_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zrange_generic(ctx, argv, 1, false, RType::Score, Dir::Fwd);
}
fn zrevrangebyscore_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zrange_generic(ctx, argv, 1, false, RType::Score, Dir::Rev);
}
fn zrangebylex_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zrange_generic(ctx, argv, 1, false, RType::Lex, Dir::Fwd);
}
fn zrevrangebylex_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zrange_generic(ctx, argv, 1, false, RType::Lex, Dir::Rev);
}

// ---------------------------------------------------------- ZREMRANGE*

fn zremrange_generic(ctx: &mut Ctx, argv: &[Bytes], rt: RType) {
    let key = &argv[1];
    let event;
    let mut score = None;
    let mut lex = None;
    let mut rank = (0, 0);
    match rt {
        RType::Score => {
            event = "zremrangebyscore";
            match ScoreRange::parse(&argv[2], &argv[3]) {
                Some(r) => score = Some(r),
                None => return ctx.error("ERR min or max is not a float"),
            }
        }
        RType::Lex => {
            event = "zremrangebylex";
            match LexRange::parse(&argv[2], &argv[3]) {
                Some(r) => lex = Some(r),
                None => return ctx.error("ERR min or max not valid string range item"),
            }
        }
        _ => {
            event = "zremrangebyrank";
            let Some(s) = ctx.int_arg(&argv[2]) else {
                return;
            };
            let Some(e) = ctx.int_arg(&argv[3]) else {
                return;
            };
            rank = (s, e);
        }
    }
    let deleted = match write_z(ctx, key) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => return ctx.reply().int(0),
        Ok(Some(z)) => {
            let (lo, hi) = if let Some(r) = &score {
                r.bounds(z)
            } else if let Some(r) = &lex {
                r.bounds(z)
            } else {
                match rank_bounds(rank.0, rank.1, z.len()) {
                    Some((s, e)) => (s, e + 1),
                    None => return ctx.reply().int(0),
                }
            };
            z.remove_range(lo, hi).len()
        }
    };
    if deleted > 0 {
        ctx.signal_modified(key);
        ctx.notify(NOTIFY_ZSET, event, key);
        del_if_empty(ctx, key);
    }
    ctx.dirty(deleted as u64);
    ctx.reply().int(deleted as i64);
}

fn zremrangebyrank_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zremrange_generic(ctx, argv, RType::Rank);
}
fn zremrangebyscore_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zremrange_generic(ctx, argv, RType::Score);
}
fn zremrangebylex_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zremrange_generic(ctx, argv, RType::Lex);
}

// ------------------------------------------------------------- ZPOP*

/// Pop up to `count` entries from the min (or max) end of the sorted set
/// at `key`, which must exist and be a sorted set. Does the bookkeeping
/// (dirty, events, deleting the emptied key). Shared with the blocking
/// variants.
pub fn pop_entries(ctx: &mut Ctx, key: &[u8], max: bool, count: usize) -> Vec<Entry> {
    let out = match write_z(ctx, key) {
        Ok(Some(z)) => {
            let n = z.len();
            let c = count.min(n);
            if max {
                let mut v = z.remove_range(n - c, n);
                v.reverse();
                v
            } else {
                z.remove_range(0, c)
            }
        }
        _ => Vec::new(),
    };
    if !out.is_empty() {
        ctx.dirty(out.len() as u64);
        ctx.notify(NOTIFY_ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
        ctx.signal_modified(key);
        del_if_empty(ctx, key);
    }
    out
}

/// Reply popped entries: flat [m, s, ...] or nested [[m, s], ...].
pub fn reply_popped(ctx: &mut Ctx, v: &[Entry], nested: bool) {
    let r = ctx.reply();
    if nested {
        r.array(v.len());
    } else {
        r.array(v.len() * 2);
    }
    for e in v {
        if nested {
            r.array(2);
        }
        r.bulk(&e.1);
        put_score(r, e.0);
    }
}

fn zpop_minmax(ctx: &mut Ctx, argv: &[Bytes], max: bool) {
    if argv.len() > 3 {
        return ctx.syntax_error();
    }
    let mut count: i64 = -1;
    if argv.len() == 3 {
        match crate::util::parse_i64(&argv[2]) {
            Some(n) if n >= 0 => count = n,
            _ => return ctx.error("ERR value is out of range, must be positive"),
        }
    }
    let nested = ctx.client.reply.resp > 2 && count != -1;
    match write_z(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => return ctx.reply().array(0),
        Ok(Some(_)) => {}
    }
    if count == 0 {
        return ctx.reply().array(0);
    }
    let c = if count == -1 { 1 } else { count as usize };
    let v = pop_entries(ctx, &argv[1], max, c);
    reply_popped(ctx, &v, nested);
}

fn zpopmin_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zpop_minmax(ctx, argv, false);
}
fn zpopmax_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zpop_minmax(ctx, argv, true);
}

/// Parsed "numkeys key... MIN|MAX [COUNT n]" (ZMPOP / BZMPOP).
pub struct MpopArgs {
    pub keys: Vec<Bytes>,
    pub max: bool,
    pub count: usize,
}

/// Parse ZMPOP-style arguments with numkeys at `at`; replies the error.
pub fn parse_mpop(ctx: &mut Ctx, argv: &[Bytes], at: usize) -> Option<MpopArgs> {
    let numkeys = match crate::util::parse_i64(&argv[at]) {
        Some(n) if n >= 1 => n as usize,
        _ => {
            ctx.error("ERR numkeys should be greater than 0");
            return None;
        }
    };
    let where_idx = at.checked_add(numkeys)?.checked_add(1)?;
    if where_idx >= argv.len() {
        ctx.syntax_error();
        return None;
    }
    let max = if eq_ic(&argv[where_idx], "min") {
        false
    } else if eq_ic(&argv[where_idx], "max") {
        true
    } else {
        ctx.syntax_error();
        return None;
    };
    let mut count: i64 = -1;
    let mut j = where_idx + 1;
    while j < argv.len() {
        if count == -1 && eq_ic(&argv[j], "count") && j + 1 < argv.len() {
            j += 1;
            match crate::util::parse_i64(&argv[j]) {
                Some(n) if n >= 1 => count = n,
                _ => {
                    ctx.error("ERR count should be greater than 0");
                    return None;
                }
            }
        } else {
            ctx.syntax_error();
            return None;
        }
        j += 1;
    }
    Some(MpopArgs {
        keys: argv[at + 1..where_idx].to_vec(),
        max,
        count: if count == -1 { 1 } else { count as usize },
    })
}

/// Pop from the first non-empty key of `a` and reply [key, [[m, s]...]].
/// Returns false (nothing replied) when every key is missing.
/// Err(()) means WRONGTYPE was replied.
#[allow(clippy::result_unit_err)]
pub fn mpop_first(ctx: &mut Ctx, a: &MpopArgs) -> Result<bool, ()> {
    for k in &a.keys {
        match write_z(ctx, k) {
            Err(()) => {
                ctx.wrongtype();
                return Err(());
            }
            Ok(None) => continue,
            Ok(Some(_)) => {
                let v = pop_entries(ctx, k, a.max, a.count);
                let r = ctx.reply();
                r.array(2);
                r.bulk(k);
                reply_popped(ctx, &v, true);
                ctx.rewrite_propagation(vec![
                    Bytes::from_static(if a.max { b"ZPOPMAX" } else { b"ZPOPMIN" }),
                    k.clone(),
                    Bytes::from(v.len().to_string()),
                ]);
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn zmpop_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(a) = parse_mpop(ctx, argv, 1) else {
        return;
    };
    if let Ok(false) = mpop_first(ctx, &a) {
        ctx.reply().null_array();
    }
}

pub fn zmpop_keys(argv: &[Bytes]) -> Vec<usize> {
    numkeys_keys(argv, 1, 0)
}

// ------------------------------------------------------- ZRANDMEMBER

fn zrandmember_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    if argv.len() == 2 {
        let e = match read_z(ctx, &argv[1]) {
            Err(()) => return ctx.wrongtype(),
            Ok(None) => None,
            Ok(Some(z)) => {
                let i = crate::util::random_below(z.len() as u64) as usize;
                z.tree.get(i).map(|e| e.1.to_vec())
            }
        };
        return match e {
            Some(m) => ctx.reply().bulk(&m),
            None => ctx.reply().null(),
        };
    }
    let l = match crate::util::parse_i64(&argv[2]) {
        Some(n) if n != i64::MIN => n,
        Some(_) => {
            return ctx.error(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            )
        }
        None => return ctx.not_int(),
    };
    let mut withscores = false;
    if argv.len() > 4 || (argv.len() == 4 && !eq_ic(&argv[3], "withscores")) {
        return ctx.syntax_error();
    } else if argv.len() == 4 {
        withscores = true;
        if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
            return ctx.error("ERR value is out of range");
        }
    }
    let (count, uniq) = if l >= 0 {
        (l as u64, true)
    } else {
        (l.unsigned_abs(), false)
    };
    if !uniq || count == 1 {
        match read_z(ctx, &argv[1]) {
            Err(()) => return ctx.wrongtype(),
            Ok(None) => return ctx.reply().array(0),
            Ok(Some(_)) => {}
        }
        // Written straight into the reply: the count may be huge.
        let di = ctx.client.db;
        let Some(Value::ZSet(z)) = ctx.srv.dbs[di].dict.get(&argv[1]).map(|o| &o.val) else {
            return ctx.reply().array(0);
        };
        let size = z.len() as u64;
        let r = &mut ctx.client.reply;
        let resp3 = r.resp >= 3;
        if withscores && !resp3 {
            r.array(count as usize * 2);
        } else {
            r.array(count as usize);
        }
        for _ in 0..count {
            let i = crate::util::random_below(size) as usize;
            if let Some(e) = z.tree.get(i) {
                if withscores && resp3 {
                    r.array(2);
                }
                r.bulk(&e.1);
                if withscores {
                    put_score(r, e.0);
                }
            }
        }
        return;
    }
    let out: Vec<Entry> = match read_z(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => Vec::new(),
        Ok(Some(_)) if count == 0 => Vec::new(),
        Ok(Some(z)) => {
            let size = z.len();
            if count >= size as u64 {
                // Redis walks the whole set from the tail here.
                z.tree.iter_rev_from(size - 1).cloned().collect()
            } else if count * 3 <= size as u64 {
                // Small sample of a big set: distinct random ranks.
                let mut seen = std::collections::HashSet::new();
                let mut out = Vec::with_capacity(count as usize);
                while (out.len() as u64) < count {
                    let i = crate::util::random_below(size as u64) as usize;
                    if seen.insert(i) {
                        if let Some(e) = z.tree.get(i) {
                            out.push(e.clone());
                        }
                    }
                }
                out
            } else {
                let mut idx: Vec<usize> = (0..size).collect();
                for i in 0..count as usize {
                    let j = i + crate::util::random_below((size - i) as u64) as usize;
                    idx.swap(i, j);
                }
                idx.truncate(count as usize);
                idx.iter().filter_map(|&i| z.tree.get(i).cloned()).collect()
            }
        }
    };
    reply_entries(ctx, &out, withscores);
}

// ------------------------------------------------ ZUNION / ZINTER / ZDIFF

#[derive(Clone, Copy, PartialEq)]
enum ZOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq)]
enum Agg {
    Sum,
    Min,
    Max,
}

fn aggregate(target: &mut f64, val: f64, agg: Agg) {
    match agg {
        Agg::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Agg::Min => {
            if val < *target {
                *target = val
            }
        }
        Agg::Max => {
            if val > *target {
                *target = val
            }
        }
    }
}

/// A source of a set operation: a sorted set or a plain set (score 1).
enum Src<'a> {
    None,
    Z(&'a ZSet),
    S(&'a crate::db::set::Set),
}

impl Src<'_> {
    fn len(&self) -> usize {
        match self {
            Src::None => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }
    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::None => None,
            Src::Z(z) => z.score(m),
            Src::S(s) => {
                if s.contains(m) {
                    Some(1.0)
                } else {
                    None
                }
            }
        }
    }
    fn for_each<F: FnMut(&[u8], f64)>(&self, mut f: F) {
        match self {
            Src::None => {}
            Src::Z(z) => {
                for e in z.tree.iter() {
                    f(&e.1, e.0);
                }
            }
            Src::S(s) => s.for_each(|m| f(m, 1.0)),
        }
    }
    fn same(&self, o: &Src) -> bool {
        match (self, o) {
            (Src::Z(a), Src::Z(b)) => std::ptr::eq(*a, *b),
            (Src::S(a), Src::S(b)) => std::ptr::eq(*a, *b),
            _ => false,
        }
    }
}

fn src_of<'a>(db: &'a Db, key: &[u8]) -> Src<'a> {
    match db.dict.get(key).map(|o| &o.val) {
        Some(Value::ZSet(z)) => Src::Z(z),
        Some(Value::Set(s)) => Src::S(s),
        _ => Src::None,
    }
}

fn zsetop_generic(
    ctx: &mut Ctx,
    argv: &[Bytes],
    dst: Option<&Bytes>,
    nk: usize,
    op: ZOp,
    card_only: bool,
) {
    let Some(setnum) = ctx.int_arg(&argv[nk]) else {
        return;
    };
    if setnum < 1 {
        let name = String::from_utf8_lossy(&argv[0]).to_lowercase();
        return ctx.error(&format!(
            "ERR at least 1 input key is needed for '{name}' command"
        ));
    }
    if setnum as u64 > (argv.len() - nk - 1) as u64 {
        return ctx.syntax_error();
    }
    let setnum = setnum as usize;
    let keys = &argv[nk + 1..nk + 1 + setnum];
    for k in keys {
        if let Some(o) = ctx.lookup_read(k) {
            if !matches!(o.val, Value::ZSet(_) | Value::Set(_)) {
                return ctx.wrongtype();
            }
        }
    }
    let mut weights = vec![1.0f64; setnum];
    let mut agg = Agg::Sum;
    let mut withscores = false;
    let mut limit = 0usize;
    let mut j = nk + 1 + setnum;
    while j < argv.len() {
        let remaining = argv.len() - j;
        let a = &argv[j];
        if op != ZOp::Diff && !card_only && remaining > setnum && eq_ic(a, "weights") {
            j += 1;
            for w in weights.iter_mut() {
                match crate::util::parse_f64(&argv[j]) {
                    Some(v) => *w = v,
                    None => return ctx.error("ERR weight value is not a float"),
                }
                j += 1;
            }
        } else if op != ZOp::Diff && !card_only && remaining >= 2 && eq_ic(a, "aggregate") {
            let v = &argv[j + 1];
            agg = if eq_ic(v, "sum") {
                Agg::Sum
            } else if eq_ic(v, "min") {
                Agg::Min
            } else if eq_ic(v, "max") {
                Agg::Max
            } else {
                return ctx.syntax_error();
            };
            j += 2;
        } else if dst.is_none() && !card_only && eq_ic(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && eq_ic(a, "limit") {
            match crate::util::parse_i64(&argv[j + 1]) {
                Some(n) if n >= 0 => limit = n as usize,
                _ => return ctx.error("ERR LIMIT can't be negative"),
            }
            j += 2;
        } else {
            return ctx.syntax_error();
        }
    }
    let di = ctx.db_index();
    let db = &ctx.srv.dbs[di];
    let mut srcs: Vec<(Src, f64)> = keys
        .iter()
        .zip(weights.iter())
        .map(|(k, w)| (src_of(db, k), *w))
        .collect();
    if op != ZOp::Diff {
        srcs.sort_by_key(|s| s.0.len());
    }
    let mut res: Vec<Entry> = Vec::new();
    let mut card = 0usize;
    match op {
        ZOp::Inter => {
            if srcs[0].0.len() > 0 {
                let (first, rest) = srcs.split_first().unwrap_or((&srcs[0], &[]));
                let mut stop = false;
                first.0.for_each(|m, s| {
                    if stop {
                        return;
                    }
                    let mut score = first.1 * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    for (src, w) in rest {
                        let v = if src.same(&first.0) {
                            Some(s)
                        } else {
                            src.score(m)
                        };
                        match v {
                            Some(v) => aggregate(&mut score, v * w, agg),
                            None => return,
                        }
                    }
                    if card_only {
                        card += 1;
                        if limit > 0 && card >= limit {
                            stop = true;
                        }
                    } else {
                        res.push((score, SBytes::new(m)));
                    }
                });
            }
        }
        ZOp::Union => {
            let mut acc: crate::db::Dict<SBytes, f64> = crate::db::Dict::new();
            let mut order: Vec<SBytes> = Vec::new();
            for (src, w) in &srcs {
                src.for_each(|m, s| {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m) {
                        Some(t) => aggregate(t, score, agg),
                        None => {
                            acc.insert_new(SBytes::new(m), score);
                            order.push(SBytes::new(m));
                        }
                    }
                });
            }
            res = order
                .into_iter()
                .map(|m| (acc.get(&m).copied().unwrap_or(0.0), m))
                .collect();
        }
        ZOp::Diff => {
            let (first, rest) = srcs.split_first().unwrap_or((&srcs[0], &[]));
            first.0.for_each(|m, s| {
                for (src, _) in rest {
                    if src.same(&first.0) || src.score(m).is_some() {
                        return;
                    }
                }
                res.push((s, SBytes::new(m)));
            });
        }
    }
    if card_only {
        return ctx.reply().int(card as i64);
    }
    match dst {
        Some(d) => {
            let lim = limits(ctx);
            let ev = match op {
                ZOp::Union => "zunionstore",
                ZOp::Inter => "zinterstore",
                ZOp::Diff => "zdiffstore",
            };
            store_result(ctx, d, res, lim, ev);
        }
        None => {
            res.sort_by(|a, b| crate::db::zset::cmp_entry(a.0, &a.1, b.0, &b.1));
            reply_entries(ctx, &res, withscores);
        }
    }
}

fn zunion_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zsetop_generic(ctx, argv, None, 1, ZOp::Union, false);
}
fn zinter_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zsetop_generic(ctx, argv, None, 1, ZOp::Inter, false);
}
fn zdiff_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zsetop_generic(ctx, argv, None, 1, ZOp::Diff, false);
}
fn zunionstore_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zsetop_generic(ctx, argv, Some(&argv[1]), 2, ZOp::Union, false);
}
fn zinterstore_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zsetop_generic(ctx, argv, Some(&argv[1]), 2, ZOp::Inter, false);
}
fn zdiffstore_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zsetop_generic(ctx, argv, Some(&argv[1]), 2, ZOp::Diff, false);
}
fn zintercard_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    zsetop_generic(ctx, argv, None, 1, ZOp::Inter, true);
}

pub fn zunion_keys(argv: &[Bytes]) -> Vec<usize> {
    numkeys_keys(argv, 1, 0)
}
pub fn zinter_keys(argv: &[Bytes]) -> Vec<usize> {
    numkeys_keys(argv, 1, 0)
}
pub fn zdiff_keys(argv: &[Bytes]) -> Vec<usize> {
    numkeys_keys(argv, 1, 0)
}
pub fn zintercard_keys(argv: &[Bytes]) -> Vec<usize> {
    numkeys_keys(argv, 1, 0)
}
pub fn zunionstore_keys(argv: &[Bytes]) -> Vec<usize> {
    numkeys_keys(argv, 2, 1)
}
pub fn zinterstore_keys(argv: &[Bytes]) -> Vec<usize> {
    numkeys_keys(argv, 2, 1)
}
pub fn zdiffstore_keys(argv: &[Bytes]) -> Vec<usize> {
    numkeys_keys(argv, 2, 1)
}

// -------------------------------------------------------------- ZSCAN

fn zscan_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(o) = parse_scan(ctx, argv, 2) else {
        return;
    };
    let (cursor, items) = match read_z(ctx, &argv[1]) {
        Err(()) => return ctx.wrongtype(),
        Ok(None) => (0, Vec::new()),
        Ok(Some(z)) => match z.dict() {
            None => {
                let mut v = Vec::with_capacity(z.len() * 2);
                for e in z.tree.iter() {
                    v.push(e.1.to_vec());
                    v.push(score_string(e.0).into_bytes());
                }
                (0, v)
            }
            Some(d) => {
                let mut items = Vec::new();
                let mut cursor = o.cursor;
                let mut iters = o.count.saturating_mul(10);
                loop {
                    cursor = d.scan(cursor, |m, s| {
                        items.push(m.to_vec());
                        items.push(score_string(*s).into_bytes());
                    });
                    iters -= 1;
                    if cursor == 0 || iters == 0 || items.len() / 2 >= o.count {
                        break;
                    }
                }
                (cursor, items)
            }
        },
    };
    reply_scan(ctx, cursor, items, true, &o.pattern);
}

// ------------------------------------------------------- BZPOP*

fn bzpop_generic(ctx: &mut Ctx, argv: &[Bytes], max: bool) {
    let Some(deadline) = crate::server::blocking::parse_timeout(ctx, &argv[argv.len() - 1]) else {
        return;
    };
    let keys = &argv[1..argv.len() - 1];
    for k in keys {
        match write_z(ctx, k) {
            Err(()) => return ctx.wrongtype(),
            Ok(None) => continue,
            Ok(Some(_)) => {
                let v = pop_entries(ctx, k, max, 1);
                let Some(e) = v.first() else { continue };
                let r = ctx.reply();
                r.array(3);
                r.bulk(k);
                r.bulk(&e.1);
                put_score(r, e.0);
                ctx.rewrite_propagation(vec![
                    Bytes::from_static(if max { b"ZPOPMAX" } else { b"ZPOPMIN" }),
                    k.clone(),
                ]);
                return;
            }
        }
    }
    if !crate::server::blocking::can_block(ctx) {
        return ctx.reply().null_array();
    }
    crate::server::blocking::block_for_keys(ctx, keys, deadline, "zset", argv);
}

fn bzpopmin_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    bzpop_generic(ctx, argv, false);
}
fn bzpopmax_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    bzpop_generic(ctx, argv, true);
}

fn bzmpop_cmd(ctx: &mut Ctx, argv: &[Bytes]) {
    let Some(deadline) = crate::server::blocking::parse_timeout(ctx, &argv[1]) else {
        return;
    };
    let Some(a) = parse_mpop(ctx, argv, 2) else {
        return;
    };
    match mpop_first(ctx, &a) {
        Err(()) | Ok(true) => {}
        Ok(false) => {
            if !crate::server::blocking::can_block(ctx) {
                return ctx.reply().null_array();
            }
            crate::server::blocking::block_for_keys(ctx, &a.keys, deadline, "zset", argv);
        }
    }
}

pub fn bzmpop_keys(argv: &[Bytes]) -> Vec<usize> {
    numkeys_keys(argv, 2, 0)
}
