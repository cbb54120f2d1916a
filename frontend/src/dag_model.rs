//! The DAG explorer's arithmetic, free of the browser: the closure the API returns as an adjacency
//! structure, which of its jobs are shown (one level around the centre at first, then expanded),
//! the "+N hidden neighbours" counts, search, a layered left-to-right layout for graphs too big for
//! dagre (longest-path layers, barycentric ordering), and the tail of a log.

use std::collections::{HashMap, HashSet, VecDeque};

use app::{api::DagView, ids::JobId};

/// The closure of a job: its nodes (in the API's order) and each node's neighbours.
#[derive(Clone, Debug, PartialEq)]
pub struct Closure {
    /// The job the view is centred on.
    pub center: JobId,
    /// Every job with its name, in the API's order.
    pub nodes: Vec<(JobId, String)>,
    /// Edges from upstream to downstream.
    pub edges: Vec<(JobId, JobId)>,
    /// The upstream neighbours of each job.
    up: HashMap<JobId, Vec<JobId>>,
    /// The downstream neighbours of each job.
    down: HashMap<JobId, Vec<JobId>>,
}

impl Closure {
    /// The closure of a [`DagView`].
    pub fn of(dag: &DagView) -> Closure {
        let nodes: Vec<_> = dag
            .nodes
            .iter()
            .map(|n| (n.job_id, n.name.clone()))
            .collect();
        let edges: Vec<_> = dag.edges.iter().map(|e| (e.from, e.to)).collect();
        Closure::new(dag.center, nodes, edges)
    }

    /// A closure from its parts; edges naming unknown jobs are dropped.
    pub fn new(center: JobId, nodes: Vec<(JobId, String)>, edges: Vec<(JobId, JobId)>) -> Closure {
        let known: HashSet<JobId> = nodes.iter().map(|(id, _)| *id).collect();
        let edges: Vec<_> = edges
            .into_iter()
            .filter(|(a, b)| a != b && known.contains(a) && known.contains(b))
            .collect();
        let mut up: HashMap<JobId, Vec<JobId>> = HashMap::new();
        let mut down: HashMap<JobId, Vec<JobId>> = HashMap::new();
        for &(from, to) in &edges {
            down.entry(from).or_default().push(to);
            up.entry(to).or_default().push(from);
        }
        Closure {
            center,
            nodes,
            edges,
            up,
            down,
        }
    }

    /// Number of jobs in the closure.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The upstream and downstream neighbours of `id`.
    pub fn neighbours(&self, id: JobId) -> impl Iterator<Item = JobId> + '_ {
        let up = self.up.get(&id).into_iter().flatten();
        let down = self.down.get(&id).into_iter().flatten();
        up.chain(down).copied()
    }

    /// The centre and its direct neighbours: what is shown at first.
    pub fn initial(&self) -> HashSet<JobId> {
        let mut shown: HashSet<JobId> = self.neighbours(self.center).collect();
        shown.insert(self.center);
        shown
    }

    /// `shown` with every neighbour of a shown job: one level further in every direction.
    pub fn expand_level(&self, shown: &HashSet<JobId>) -> HashSet<JobId> {
        let mut more = shown.clone();
        for &id in shown {
            more.extend(self.neighbours(id));
        }
        more
    }

    /// Every job.
    pub fn all(&self) -> HashSet<JobId> {
        self.nodes.iter().map(|(id, _)| *id).collect()
    }

    /// How many neighbours of `id` are not shown.
    pub fn hidden_neighbours(&self, id: JobId, shown: &HashSet<JobId>) -> usize {
        let mut seen = HashSet::new();
        self.neighbours(id)
            .filter(|n| !shown.contains(n) && seen.insert(*n))
            .count()
    }

    /// The shown jobs whose name or `#id` contains `query` (case-insensitive), in the order of
    /// their distance from the centre, then by name.
    pub fn search(&self, query: &str, shown: &HashSet<JobId>) -> Vec<JobId> {
        let query = query.trim().to_lowercase();
        if query.is_empty() {
            return Vec::new();
        }
        let distance = self.distances();
        let mut hits: Vec<_> = self
            .nodes
            .iter()
            .filter(|(id, name)| {
                shown.contains(id)
                    && (name.to_lowercase().contains(&query)
                        || format!("#{id}").contains(&query)
                        || id.to_string() == query)
            })
            .map(|(id, name)| (distance.get(id).copied().unwrap_or(usize::MAX), name, *id))
            .collect();
        hits.sort();
        hits.into_iter().map(|(_, _, id)| id).collect()
    }

    /// Steps from the centre to each job, along edges in either direction.
    fn distances(&self) -> HashMap<JobId, usize> {
        let mut distance = HashMap::from([(self.center, 0)]);
        let mut queue = VecDeque::from([self.center]);
        while let Some(id) = queue.pop_front() {
            let d = distance[&id];
            for n in self.neighbours(id) {
                distance.entry(n).or_insert_with(|| {
                    queue.push_back(n);
                    d + 1
                });
            }
        }
        distance
    }
}

/// Horizontal space between layers, in graph pixels.
const LAYER_GAP: f64 = 70.0;
/// Vertical distance between the centres of two nodes of a layer.
const ROW_HEIGHT: f64 = 50.0;
/// Barycentric sweeps (each one down and one up).
const SWEEPS: usize = 4;

/// The approximate drawn width of a node labelled `label` (bold 12 px, see `js/dag.js`).
pub fn label_width(label: &str) -> f64 {
    label.chars().count() as f64 * 7.2 + 28.0
}

/// A left-to-right layered layout of `nodes` (id and drawn width) with `edges` between them: each
/// node's layer is its longest path from a source; within layers nodes are ordered by the mean
/// position of their neighbours, sweeping forwards and backwards. Returns each node's centre.
/// Linear in the graph's size per sweep: 2,000 nodes take a few milliseconds.
pub fn layered_layout(
    nodes: &[(JobId, f64)],
    edges: &[(JobId, JobId)],
) -> HashMap<JobId, (f64, f64)> {
    let index: HashMap<JobId, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let n = nodes.len();
    let mut ups = vec![Vec::new(); n];
    let mut downs = vec![Vec::new(); n];
    for (from, to) in edges {
        if let (Some(&a), Some(&b)) = (index.get(from), index.get(to))
            && a != b
        {
            downs[a].push(b);
            ups[b].push(a);
        }
    }
    // Longest-path layering in topological order (Kahn); nodes on a cycle, which a DAG has not,
    // stay in layer 0 rather than looping.
    let mut indegree: Vec<usize> = ups.iter().map(Vec::len).collect();
    let mut layer = vec![0usize; n];
    let mut queue: VecDeque<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut topo = Vec::with_capacity(n);
    while let Some(i) = queue.pop_front() {
        topo.push(i);
        for &d in &downs[i] {
            layer[d] = layer[d].max(layer[i] + 1);
            indegree[d] -= 1;
            if indegree[d] == 0 {
                queue.push_back(d);
            }
        }
    }
    let mut placed = vec![false; n];
    topo.iter().for_each(|&i| placed[i] = true);
    topo.extend((0..n).filter(|&i| !placed[i]));
    let layers_count = layer.iter().max().map_or(0, |m| m + 1);
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); layers_count];
    for &i in &topo {
        layers[layer[i]].push(i);
    }
    // y of each node: its rank in its layer, centred on 0.
    let mut y = vec![0.0f64; n];
    let place = |layer: &[usize], y: &mut [f64]| {
        let mid = (layer.len() as f64 - 1.0) / 2.0;
        for (rank, &i) in layer.iter().enumerate() {
            y[i] = (rank as f64 - mid) * ROW_HEIGHT;
        }
    };
    layers.iter().for_each(|l| place(l, &mut y));
    let reorder = |layer: &mut Vec<usize>, y: &mut [f64], neighbours: &[Vec<usize>]| {
        let mut keyed: Vec<(f64, usize)> = layer
            .iter()
            .map(|&i| {
                let ns = &neighbours[i];
                let key = if ns.is_empty() {
                    y[i]
                } else {
                    ns.iter().map(|&j| y[j]).sum::<f64>() / ns.len() as f64
                };
                (key, i)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
        *layer = keyed.into_iter().map(|(_, i)| i).collect();
        place(layer, y);
    };
    for _ in 0..SWEEPS {
        for layer in layers.iter_mut().skip(1) {
            reorder(layer, &mut y, &ups);
        }
        let last = layers.len().saturating_sub(1);
        for layer in layers.iter_mut().take(last).rev() {
            reorder(layer, &mut y, &downs);
        }
    }
    // x: layers side by side, each as wide as its widest node.
    let mut positions = HashMap::with_capacity(n);
    let mut x = 0.0;
    let mut previous_half = 0.0;
    for (l, members) in layers.iter().enumerate() {
        let half = members.iter().map(|&i| nodes[i].1).fold(0.0, f64::max) / 2.0;
        if l > 0 {
            x += previous_half + LAYER_GAP + half;
        }
        previous_half = half;
        for &i in members {
            positions.insert(nodes[i].0, (x, y[i]));
        }
    }
    positions
}

/// The last `lines` lines of `text` (a trailing newline does not count as an empty line).
pub fn tail_lines(text: &str, lines: usize) -> Vec<String> {
    let text = text.strip_suffix('\n').unwrap_or(text);
    if text.is_empty() {
        return Vec::new();
    }
    let all: Vec<&str> = text.split('\n').collect();
    all[all.len().saturating_sub(lines)..]
        .iter()
        .map(|line| line.trim_end_matches('\r').to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: i64) -> JobId {
        JobId(n)
    }

    /// 1 → 2 → 3 → 4, 5 → 3.
    fn sample() -> Closure {
        let nodes = (1..=5).map(|n| (id(n), format!("job-{n}"))).collect();
        let edges = vec![
            (id(1), id(2)),
            (id(2), id(3)),
            (id(3), id(4)),
            (id(5), id(3)),
        ];
        Closure::new(id(2), nodes, edges)
    }

    fn set(ids: &[i64]) -> HashSet<JobId> {
        ids.iter().map(|&n| id(n)).collect()
    }

    #[test]
    fn shows_one_level_then_expands() {
        let c = sample();
        let shown = c.initial();
        assert_eq!(shown, set(&[1, 2, 3]));
        assert_eq!(c.hidden_neighbours(id(3), &shown), 2);
        assert_eq!(c.hidden_neighbours(id(2), &shown), 0);
        let more = c.expand_level(&shown);
        assert_eq!(more, set(&[1, 2, 3, 4, 5]));
        assert_eq!(c.all(), more);
    }

    #[test]
    fn search_is_case_insensitive_and_nearest_first() {
        let c = sample();
        let all = c.all();
        assert_eq!(
            c.search("JOB-", &set(&[1, 2, 3])),
            vec![id(2), id(1), id(3)]
        );
        assert_eq!(c.search("#5", &all), vec![id(5)]);
        assert_eq!(c.search("  ", &all), Vec::<JobId>::new());
        assert_eq!(c.search("job-4", &set(&[1, 2])), Vec::<JobId>::new());
    }

    #[test]
    fn layers_run_left_to_right_without_overlaps() {
        let c = sample();
        let nodes: Vec<_> = c.nodes.iter().map(|(id, _)| (*id, 80.0)).collect();
        let pos = layered_layout(&nodes, &c.edges);
        assert_eq!(pos.len(), 5);
        for (from, to) in &c.edges {
            assert!(pos[from].0 < pos[to].0, "{from} before {to}");
        }
        // 3 has the longest path 1 → 2 → 3, so 5 shares layer 0 with 1.
        assert_eq!(pos[&id(5)].0, pos[&id(1)].0);
        let mut seen = HashSet::new();
        for (x, y) in pos.values() {
            assert!(
                seen.insert((x.to_bits(), y.to_bits())),
                "two nodes at ({x}, {y})"
            );
        }
    }

    #[test]
    fn layout_of_a_big_layered_graph_is_fast_and_complete() {
        // 40 layers × 50 jobs, each depending on one or two of the previous layer.
        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        for l in 0..40i64 {
            for k in 0..50i64 {
                let me = l * 50 + k;
                nodes.push((id(me), 100.0));
                if l > 0 {
                    edges.push((id((l - 1) * 50 + (k * 7) % 50), id(me)));
                    if k % 2 == 0 {
                        edges.push((id((l - 1) * 50 + (k * 13 + 5) % 50), id(me)));
                    }
                }
            }
        }
        let pos = layered_layout(&nodes, &edges);
        assert_eq!(pos.len(), 2000);
        for (from, to) in &edges {
            assert!(pos[from].0 < pos[to].0);
        }
    }

    #[test]
    fn a_cycle_does_not_hang() {
        let nodes = vec![(id(1), 50.0), (id(2), 50.0)];
        let pos = layered_layout(&nodes, &[(id(1), id(2)), (id(2), id(1))]);
        assert_eq!(pos.len(), 2);
    }

    #[test]
    fn tails_keep_the_last_lines() {
        assert_eq!(tail_lines("a\nb\nc\n", 2), vec!["b", "c"]);
        assert_eq!(tail_lines("a\r\nb", 5), vec!["a", "b"]);
        assert!(tail_lines("", 3).is_empty());
        assert!(tail_lines("\n", 3).is_empty());
    }
}
