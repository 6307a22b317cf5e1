//! Clustering of accepted pairs by union-find, optionally with at most one record per node.

/// A record pair accepted as a match, by index, with its match probability.
pub type Edge = (u32, u32, f64);

/// Plain union-find (path halving, union by size): the connected components of the accepted
/// pairs, before any constraint.
pub struct DisjointSets {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl DisjointSets {
    pub fn new(n: usize) -> Self {
        Self {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    pub fn find(&mut self, i: u32) -> u32 {
        find_root(&mut self.parent, i)
    }

    pub fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        let (big, small) = if self.size[ra as usize] >= self.size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
    }
}

/// The connected components of the accepted pairs over `n` records, each with its records and
/// its pairs. Clustering one component never looks at another, so components are clustered
/// independently (in parallel) with the same result as one pass over all pairs in order.
pub struct Components {
    /// Component `c` has the records `members[starts[c] .. starts[c + 1]]`, ascending;
    /// components are numbered in order of their first record.
    starts: Vec<u32>,
    members: Vec<u32>,
    /// Component `c` has the pairs `edges[edge_starts[c] .. edge_starts[c + 1]]`.
    edge_starts: Vec<u32>,
    edges: Vec<Edge>,
    /// Position of each record among its component's members.
    position: Vec<u32>,
}

impl Components {
    /// Groups `n` records and the pairs `edges` between them into connected components.
    pub fn new(n: usize, edges: Vec<Edge>) -> Self {
        let mut sets = DisjointSets::new(n);
        for &(a, b, _) in &edges {
            sets.union(a, b);
        }
        // Number components by first record; count members and pairs.
        let mut slot = vec![u32::MAX; n];
        let mut component = vec![0u32; n];
        let mut sizes: Vec<u32> = Vec::new();
        for i in 0..n as u32 {
            let root = sets.find(i) as usize;
            if slot[root] == u32::MAX {
                slot[root] = sizes.len() as u32;
                sizes.push(0);
            }
            component[i as usize] = slot[root];
            sizes[slot[root] as usize] += 1;
        }
        drop(slot);
        drop(sets);
        let count = sizes.len();
        let starts = prefix_sums(sizes.iter().copied());
        let mut fill = starts.clone();
        let mut members = vec![0u32; n];
        let mut position = vec![0u32; n];
        for (i, &c) in component.iter().enumerate() {
            let at = fill[c as usize];
            members[at as usize] = i as u32;
            position[i] = at - starts[c as usize];
            fill[c as usize] += 1;
        }
        let mut edge_counts = vec![0u32; count];
        for &(a, _, _) in &edges {
            edge_counts[component[a as usize] as usize] += 1;
        }
        let edge_starts = prefix_sums(edge_counts.into_iter());
        let mut fill = edge_starts.clone();
        let mut grouped = vec![(0u32, 0u32, 0.0f64); edges.len()];
        for edge in edges {
            let c = component[edge.0 as usize] as usize;
            grouped[fill[c] as usize] = edge;
            fill[c] += 1;
        }
        Self {
            starts,
            members,
            edge_starts,
            edges: grouped,
            position,
        }
    }

    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records of component `c`, ascending.
    pub fn members(&self, c: usize) -> &[u32] {
        &self.members[self.starts[c] as usize..self.starts[c + 1] as usize]
    }

    /// Accepted pairs inside component `c`.
    pub fn edges(&self, c: usize) -> &[Edge] {
        &self.edges[self.edge_starts[c] as usize..self.edge_starts[c + 1] as usize]
    }

    /// Position of record `i` among its component's members.
    pub fn position(&self, i: u32) -> u32 {
        self.position[i as usize]
    }
}

/// Root of `i` in the forest `parent`, halving the path on the way.
fn find_root(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let grand = parent[parent[i as usize] as usize];
        parent[i as usize] = grand;
        i = grand;
    }
    i
}

/// `[0, a, a + b, …]`: where each run starts, plus the total.
fn prefix_sums(sizes: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut out = vec![0u32];
    let mut total = 0u32;
    for size in sizes {
        total += size;
        out.push(total);
    }
    out
}

/// Union-find over records `0..n` with each root of more than one record keeping the sorted
/// nodes of its component (a singleton's node list is its own node, not stored). Reusable:
/// [`Clusters::reset`] starts over on other records without giving memory back.
#[derive(Default)]
pub struct Clusters {
    parent: Vec<u32>,
    node: Vec<u32>,
    nodes: Vec<Vec<u32>>,
}

impl Clusters {
    /// One singleton per record; `node[i]` is record `i`'s node.
    pub fn new(node: &[u32]) -> Self {
        let mut clusters = Self::default();
        clusters.reset(node);
        clusters
    }

    /// Starts over with one singleton per record of `node`.
    pub fn reset(&mut self, node: &[u32]) {
        let n = node.len();
        self.parent.clear();
        self.parent.extend(0..n as u32);
        self.node.clear();
        self.node.extend_from_slice(node);
        for list in self.nodes.iter_mut().take(n) {
            list.clear();
        }
        if self.nodes.len() < n {
            self.nodes.resize_with(n, Vec::new);
        }
    }

    /// The sorted nodes of the component rooted at `root`, moved out.
    fn take_nodes(&mut self, root: u32) -> Vec<u32> {
        let list = std::mem::take(&mut self.nodes[root as usize]);
        if list.is_empty() {
            let mut own = list;
            own.push(self.node[root as usize]);
            own
        } else {
            list
        }
    }

    fn nodes_of(&self, root: u32) -> &[u32] {
        let list = &self.nodes[root as usize];
        if list.is_empty() {
            std::slice::from_ref(&self.node[root as usize])
        } else {
            list
        }
    }

    /// Root of `i`'s component.
    pub fn find(&mut self, i: u32) -> u32 {
        find_root(&mut self.parent, i)
    }

    /// Joins the components of `a` and `b`. With `one_per_node`, refuses (returns false) when
    /// they share a node. Returns whether they are now one component.
    pub fn union(&mut self, a: u32, b: u32, one_per_node: bool) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return true;
        }
        if one_per_node && sorted_intersect(self.nodes_of(ra), self.nodes_of(rb)) {
            return false;
        }
        // Union by size of the node lists; the larger root stays.
        let (big, small) = if self.nodes_of(ra).len() >= self.nodes_of(rb).len() {
            (ra, rb)
        } else {
            (rb, ra)
        };
        let mut kept = self.take_nodes(big);
        if self.nodes[small as usize].is_empty() {
            // A single record joins: insert its node in place (no new list).
            let n = self.node[small as usize];
            if let Err(at) = kept.binary_search(&n) {
                kept.insert(at, n);
            }
        } else {
            let moved = std::mem::take(&mut self.nodes[small as usize]);
            kept = merge_sorted(kept, moved);
        }
        self.nodes[big as usize] = kept;
        self.parent[small as usize] = big;
        true
    }
}

fn sorted_intersect(a: &[u32], b: &[u32]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

fn merge_sorted(a: Vec<u32>, b: Vec<u32>) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_per_node_refuses_a_second_record_of_a_node() {
        // Records 0 and 2 are both from node 7.
        let mut c = Clusters::new(&[7, 8, 7]);
        assert!(c.union(0, 1, true));
        assert!(!c.union(1, 2, true));
        assert_ne!(c.find(0), c.find(2));
        // Without the constraint the union goes through.
        assert!(c.union(1, 2, false));
        assert_eq!(c.find(0), c.find(2));
    }
}
