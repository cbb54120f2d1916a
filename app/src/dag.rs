//! Validation of the job dependency graph: a save that would close a cycle is refused with the
//! cycle's path. Iterative (explicit stack), so deep chains cannot overflow the call stack.

use std::collections::{BTreeMap, BTreeSet};

use crate::ids::JobId;

/// Why a dependency set was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DagError {
    /// A job would depend on itself through the listed path (first and last element equal).
    #[error("dependency cycle: {}", render_path(.path))]
    Cycle {
        /// The cycle, e.g. `[a, b, c, a]`.
        path: Vec<JobId>,
    },
    /// A dependency names a job that does not exist.
    #[error("unknown job {0}")]
    UnknownJob(JobId),
    /// A job lists itself.
    #[error("a job cannot depend on itself")]
    SelfDependency,
}

fn render_path(path: &[JobId]) -> String {
    path.iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// Checks that giving `job` the upstream set `upstreams` keeps `graph` (job -> its upstreams)
/// acyclic. `graph` is the current graph; `job`'s own entry in it is ignored.
pub fn check_dependencies(
    graph: &BTreeMap<JobId, Vec<JobId>>,
    job: JobId,
    upstreams: &[JobId],
) -> Result<(), DagError> {
    for upstream in upstreams {
        if *upstream == job {
            return Err(DagError::SelfDependency);
        }
        if !graph.contains_key(upstream) {
            return Err(DagError::UnknownJob(*upstream));
        }
    }
    // A cycle exists iff `job` is reachable from one of its new upstreams. Depth-first search with
    // an explicit stack of (node, next child index); `parent` reconstructs the path.
    let upstreams_of = |id: JobId| -> &[JobId] {
        if id == job {
            upstreams
        } else {
            graph.get(&id).map_or(&[], Vec::as_slice)
        }
    };
    let mut visited = BTreeSet::new();
    let mut parent: BTreeMap<JobId, JobId> = BTreeMap::new();
    let mut stack: Vec<(JobId, usize)> = vec![(job, 0)];
    visited.insert(job);
    while let Some((node, child_idx)) = stack.pop() {
        let children = upstreams_of(node);
        let Some(&child) = children.get(child_idx) else {
            continue;
        };
        stack.push((node, child_idx + 1));
        if child == job {
            // Walk back from `node` to `job`: job -> ... -> node -> job, as "depends on" order.
            let mut path = vec![node];
            let mut cursor = node;
            while cursor != job {
                cursor = parent[&cursor];
                path.push(cursor);
            }
            path.reverse();
            path.push(job);
            return Err(DagError::Cycle { path });
        }
        if visited.insert(child) {
            parent.insert(child, node);
            stack.push((child, 0));
        }
    }
    Ok(())
}

/// Every job that depends on `job`, directly or through others (not `job` itself).
pub fn downstream_closure(graph: &BTreeMap<JobId, Vec<JobId>>, job: JobId) -> BTreeSet<JobId> {
    let mut out = BTreeSet::new();
    let mut stack = vec![job];
    while let Some(node) = stack.pop() {
        for (down, ups) in graph {
            if ups.contains(&node) && *down != job && out.insert(*down) {
                stack.push(*down);
            }
        }
    }
    out
}

/// The upstream and downstream closure of `center` (including `center`), with the edges between
/// them as (upstream, downstream) pairs.
pub fn neighbourhood(
    graph: &BTreeMap<JobId, Vec<JobId>>,
    center: JobId,
) -> (BTreeSet<JobId>, BTreeSet<(JobId, JobId)>) {
    let mut downstream_of: BTreeMap<JobId, Vec<JobId>> = BTreeMap::new();
    for (job, ups) in graph {
        for up in ups {
            downstream_of.entry(*up).or_default().push(*job);
        }
    }
    let mut nodes = BTreeSet::from([center]);
    let mut edges = BTreeSet::new();
    for upward in [true, false] {
        let mut stack = vec![center];
        let mut seen = BTreeSet::from([center]);
        while let Some(node) = stack.pop() {
            let next = if upward {
                graph.get(&node)
            } else {
                downstream_of.get(&node)
            };
            for &other in next.into_iter().flatten() {
                edges.insert(if upward { (other, node) } else { (node, other) });
                nodes.insert(other);
                if seen.insert(other) {
                    stack.push(other);
                }
            }
        }
    }
    (nodes, edges)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(i64, &[i64])]) -> BTreeMap<JobId, Vec<JobId>> {
        edges
            .iter()
            .map(|(job, ups)| (JobId(*job), ups.iter().map(|u| JobId(*u)).collect()))
            .collect()
    }

    #[test]
    fn accepts_a_diamond() {
        let g = graph(&[(1, &[]), (2, &[1]), (3, &[1]), (4, &[])]);
        assert_eq!(
            check_dependencies(&g, JobId(4), &[JobId(2), JobId(3)]),
            Ok(())
        );
    }

    #[test]
    fn refuses_a_cycle_with_its_path() {
        // 1 <- 2 <- 3; making 1 depend on 3 closes 1 -> 3 -> 2 -> 1.
        let g = graph(&[(1, &[]), (2, &[1]), (3, &[2])]);
        let err = check_dependencies(&g, JobId(1), &[JobId(3)]).unwrap_err();
        assert_eq!(err.to_string(), "dependency cycle: 1 -> 3 -> 2 -> 1");
        assert_eq!(
            check_dependencies(&g, JobId(1), &[JobId(1)]),
            Err(DagError::SelfDependency)
        );
        assert_eq!(
            check_dependencies(&g, JobId(1), &[JobId(9)]),
            Err(DagError::UnknownJob(JobId(9)))
        );
    }

    #[test]
    fn deep_chains_do_not_overflow() {
        let n = 200_000;
        let mut g: BTreeMap<JobId, Vec<JobId>> =
            (1..n).map(|i| (JobId(i + 1), vec![JobId(i)])).collect();
        g.insert(JobId(1), vec![]);
        let err = check_dependencies(&g, JobId(1), &[JobId(n)]).unwrap_err();
        let DagError::Cycle { path } = err else {
            panic!("expected a cycle")
        };
        assert_eq!(path.len() as i64, n + 1);
    }

    #[test]
    fn neighbourhood_walks_both_ways() {
        let g = graph(&[(1, &[]), (2, &[1]), (3, &[2]), (4, &[]), (5, &[4])]);
        let (nodes, edges) = neighbourhood(&g, JobId(2));
        assert_eq!(nodes, [1, 2, 3].map(JobId).into());
        assert_eq!(edges, [(JobId(1), JobId(2)), (JobId(2), JobId(3))].into());
    }
}
