//! Clustering of accepted pairs by union-find, optionally with at most one record per node.

/// Union-find over record indices; each root of more than one record keeps the sorted nodes of
/// its component (a singleton's node list is its own node, not stored).
pub struct Clusters<'a> {
    parent: Vec<u32>,
    node: &'a [u32],
    nodes: Vec<Vec<u32>>,
}

impl<'a> Clusters<'a> {
    /// One singleton per record; `node[i]` is record `i`'s node.
    pub fn new(node: &'a [u32]) -> Self {
        Self {
            parent: (0..node.len() as u32).collect(),
            node,
            nodes: vec![Vec::new(); node.len()],
        }
    }

    /// The sorted nodes of the component rooted at `root`.
    fn take_nodes(&mut self, root: u32) -> Vec<u32> {
        let list = std::mem::take(&mut self.nodes[root as usize]);
        if list.is_empty() {
            vec![self.node[root as usize]]
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

    /// Root of `i`'s component (with path halving).
    pub fn find(&mut self, mut i: u32) -> u32 {
        while self.parent[i as usize] != i {
            let grand = self.parent[self.parent[i as usize] as usize];
            self.parent[i as usize] = grand;
            i = grand;
        }
        i
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
