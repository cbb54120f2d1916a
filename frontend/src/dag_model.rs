//! The DAG explorer's arithmetic, free of the browser: the closure the API returns as an adjacency
//! structure, which of its jobs are shown (one level around the centre at first, then expanded),
//! the "+N hidden neighbours" counts, search, a layered left-to-right layout for graphs too big for
//! dagre (longest-path layers, barycentric ordering), the placement of the jobs an expansion adds
//! around the ones already drawn (which keep their places), and the tail of a log.

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

/// Drawn height of a node (see `js/dag.js`).
const NODE_HEIGHT: f64 = 34.0;
/// Least free space left between a placed node and its neighbours, across and along the layers.
const GAP_ACROSS: f64 = 16.0;
const GAP_ALONG: f64 = 24.0;
/// Cells of the occupancy grid [`place_new`] checks overlaps with.
const CELL_W: f64 = 200.0;
const CELL_H: f64 = 50.0;

/// Where nodes are, for overlap checks: each node's box in the grid cells it covers.
#[derive(Default)]
struct Occupied {
    boxes: Vec<(f64, f64, f64)>,
    cells: HashMap<(i64, i64), Vec<usize>>,
}

impl Occupied {
    fn span(x: f64, y: f64, width: f64) -> impl Iterator<Item = (i64, i64)> {
        let half_w = width / 2.0 + GAP_ALONG;
        let half_h = NODE_HEIGHT + GAP_ACROSS;
        let cols = ((x - half_w) / CELL_W).floor() as i64..=((x + half_w) / CELL_W).floor() as i64;
        let rows = ((y - half_h) / CELL_H).floor() as i64..=((y + half_h) / CELL_H).floor() as i64;
        cols.flat_map(move |c| rows.clone().map(move |r| (c, r)))
    }

    fn insert(&mut self, x: f64, y: f64, width: f64) {
        let i = self.boxes.len();
        self.boxes.push((x, y, width));
        for cell in Self::span(x, y, width) {
            self.cells.entry(cell).or_default().push(i);
        }
    }

    /// Whether a node of `width` centred on (`x`, `y`) keeps its distance from every other.
    fn free(&self, x: f64, y: f64, width: f64) -> bool {
        Self::span(x, y, width).all(|cell| {
            self.cells.get(&cell).is_none_or(|found| {
                found.iter().all(|&i| {
                    let (bx, by, bw) = self.boxes[i];
                    (bx - x).abs() >= (bw + width) / 2.0 + GAP_ALONG
                        || (by - y).abs() >= NODE_HEIGHT + GAP_ACROSS
                })
            })
        })
    }
}

/// Positions for `nodes` (id and drawn width, every node to draw) with `edges` between them,
/// keeping the nodes of `fixed` where they are and placing only the others, each next to the
/// neighbours placed before it in the layered order (left to right, as [`layered_layout`] and
/// dagre draw): after an upstream neighbour one layer further right, else before a downstream
/// one, at their mean height, moved up or down to the nearest free row. Placing grows outwards
/// from the fixed nodes (breadth first), so the jobs an expansion adds gather around the job that
/// was expanded. A node with no placed neighbour at all goes below everything. Returns every
/// node's centre; about linear in the number of nodes placed.
pub fn place_new(
    nodes: &[(JobId, f64)],
    edges: &[(JobId, JobId)],
    fixed: &HashMap<JobId, (f64, f64)>,
) -> HashMap<JobId, (f64, f64)> {
    let width: HashMap<JobId, f64> = nodes.iter().copied().collect();
    let mut ups: HashMap<JobId, Vec<JobId>> = HashMap::new();
    let mut downs: HashMap<JobId, Vec<JobId>> = HashMap::new();
    for (from, to) in edges {
        if from != to && width.contains_key(from) && width.contains_key(to) {
            downs.entry(*from).or_default().push(*to);
            ups.entry(*to).or_default().push(*from);
        }
    }
    let mut positions: HashMap<JobId, (f64, f64)> = HashMap::with_capacity(nodes.len());
    let mut occupied = Occupied::default();
    let mut queue = VecDeque::new();
    for (id, w) in nodes {
        if let Some(&(x, y)) = fixed.get(id) {
            positions.insert(*id, (x, y));
            occupied.insert(x, y, *w);
            queue.push_back(*id);
        }
    }
    let empty = Vec::new();
    let place = |id: JobId, positions: &HashMap<JobId, (f64, f64)>, occupied: &Occupied| {
        let w = width[&id];
        let placed = |list: Option<&Vec<JobId>>| -> Vec<(JobId, (f64, f64))> {
            list.unwrap_or(&empty)
                .iter()
                .filter_map(|n| positions.get(n).map(|p| (*n, *p)))
                .collect()
        };
        let (up, down) = (placed(ups.get(&id)), placed(downs.get(&id)));
        let step = |n: &JobId| width[n] / 2.0 + LAYER_GAP + w / 2.0;
        let x = if !up.is_empty() {
            up.iter()
                .map(|(n, (x, _))| x + step(n))
                .fold(f64::MIN, f64::max)
        } else if !down.is_empty() {
            down.iter()
                .map(|(n, (x, _))| x - step(n))
                .fold(f64::MAX, f64::min)
        } else {
            // Nothing around it: below everything, at the left edge.
            let left = positions.values().map(|p| p.0).fold(f64::MAX, f64::min);
            let bottom = positions.values().map(|p| p.1).fold(f64::MIN, f64::max);
            return if positions.is_empty() {
                (0.0, 0.0)
            } else {
                let y = bottom + 2.0 * ROW_HEIGHT;
                (left, first_free(occupied, left, y, w))
            };
        };
        let around: Vec<f64> = up.iter().chain(&down).map(|(_, (_, y))| *y).collect();
        let y = around.iter().sum::<f64>() / around.len() as f64;
        (x, first_free(occupied, x, y, w))
    };
    let mut next_unplaced = 0;
    loop {
        while let Some(id) = queue.pop_front() {
            let around = ups.get(&id).into_iter().chain(downs.get(&id)).flatten();
            for &n in around {
                if !positions.contains_key(&n) {
                    let (x, y) = place(n, &positions, &occupied);
                    positions.insert(n, (x, y));
                    occupied.insert(x, y, width[&n]);
                    queue.push_back(n);
                }
            }
        }
        // A part of the graph not connected to anything placed.
        while next_unplaced < nodes.len() && positions.contains_key(&nodes[next_unplaced].0) {
            next_unplaced += 1;
        }
        let Some(&(id, w)) = nodes.get(next_unplaced) else {
            break;
        };
        let (x, y) = place(id, &positions, &occupied);
        positions.insert(id, (x, y));
        occupied.insert(x, y, w);
        queue.push_back(id);
    }
    positions
}

/// The free row nearest to `y` (rows [`ROW_HEIGHT`] apart, below first) for a node at `x`.
fn first_free(occupied: &Occupied, x: f64, y: f64, width: f64) -> f64 {
    (0..)
        .flat_map(|k| [y + k as f64 * ROW_HEIGHT, y - k as f64 * ROW_HEIGHT])
        .find(|&y| occupied.free(x, y, width))
        .unwrap_or(y)
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

    /// No two nodes of `pos` (all `width` wide) closer than the gaps allow.
    fn assert_apart(pos: &HashMap<JobId, (f64, f64)>, width: f64) {
        let all: Vec<_> = pos.iter().collect();
        for (i, (a, pa)) in all.iter().enumerate() {
            for (b, pb) in &all[i + 1..] {
                let apart = (pa.0 - pb.0).abs() >= width + GAP_ALONG - 1e-9
                    || (pa.1 - pb.1).abs() >= NODE_HEIGHT + GAP_ACROSS - 1e-9;
                assert!(apart, "{a} at {pa:?} overlaps {b} at {pb:?}");
            }
        }
    }

    #[test]
    fn new_nodes_go_around_the_fixed_ones_in_layer_order() {
        let c = sample();
        let shown = c.initial();
        let sized = |ids: &HashSet<JobId>| -> Vec<(JobId, f64)> {
            c.nodes
                .iter()
                .filter(|(id, _)| ids.contains(id))
                .map(|(id, _)| (*id, 80.0))
                .collect()
        };
        let edges_in = |ids: &HashSet<JobId>| -> Vec<(JobId, JobId)> {
            c.edges
                .iter()
                .filter(|(a, b)| ids.contains(a) && ids.contains(b))
                .copied()
                .collect()
        };
        let before = layered_layout(&sized(&shown), &edges_in(&shown));
        let all = c.all();
        let after = place_new(&sized(&all), &edges_in(&all), &before);
        assert_eq!(after.len(), 5);
        for (id, p) in &before {
            assert_eq!(after[id], *p, "{id} stayed");
        }
        // 4 is downstream of 3: right of it; 5 is upstream of 3: left of it.
        assert!(after[&id(4)].0 > after[&id(3)].0);
        assert!(after[&id(5)].0 < after[&id(3)].0);
        assert_apart(&after, 80.0);
    }

    #[test]
    fn placing_many_new_nodes_keeps_order_and_distance() {
        // The 2,000-job graph of the layout test, grown from its root and first layer.
        let mut nodes = vec![(id(10_000), 100.0)];
        let mut edges = Vec::new();
        for l in 0..40i64 {
            for k in 0..50i64 {
                let me = l * 50 + k;
                nodes.push((id(me), 100.0));
                if l == 0 {
                    edges.push((id(10_000), id(me)));
                } else {
                    edges.push((id((l - 1) * 50 + (k * 7) % 50), id(me)));
                    if k % 2 == 0 {
                        edges.push((id((l - 1) * 50 + (k * 13 + 5) % 50), id(me)));
                    }
                }
            }
        }
        let first: HashSet<JobId> = (0..50).map(id).chain([id(10_000)]).collect();
        let fixed = layered_layout(
            &nodes
                .iter()
                .filter(|(n, _)| first.contains(n))
                .copied()
                .collect::<Vec<_>>(),
            &edges
                .iter()
                .filter(|(a, b)| first.contains(a) && first.contains(b))
                .copied()
                .collect::<Vec<_>>(),
        );
        let pos = place_new(&nodes, &edges, &fixed);
        assert_eq!(pos.len(), 2001);
        for (n, p) in &fixed {
            assert_eq!(pos[n], *p);
        }
        for (from, to) in &edges {
            assert!(pos[from].0 < pos[to].0, "{from} before {to}");
        }
        assert_apart(&pos, 100.0);
    }

    #[test]
    fn unconnected_nodes_go_below() {
        let nodes = vec![(id(1), 60.0), (id(2), 60.0), (id(3), 60.0)];
        let fixed = HashMap::from([(id(1), (0.0, 0.0))]);
        let pos = place_new(&nodes, &[(id(2), id(3))], &fixed);
        assert_eq!(pos[&id(1)], (0.0, 0.0));
        assert!(pos[&id(2)].1 > 0.0);
        assert!(pos[&id(3)].0 > pos[&id(2)].0);
        assert_apart(&pos, 60.0);
    }

    #[test]
    fn tails_keep_the_last_lines() {
        assert_eq!(tail_lines("a\nb\nc\n", 2), vec!["b", "c"]);
        assert_eq!(tail_lines("a\r\nb", 5), vec!["a", "b"]);
        assert!(tail_lines("", 3).is_empty());
        assert!(tail_lines("\n", 3).is_empty());
    }
}
