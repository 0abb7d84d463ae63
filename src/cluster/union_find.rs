//! Disjoint sets with path halving and union by size.

/// A union-find over `0..n`.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    /// `n` singletons.
    pub fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    /// Adds singletons until there are `n` elements.
    pub fn grow(&mut self, n: usize) {
        let from = self.parent.len();
        self.parent.extend(from as u32..n.max(from) as u32);
        self.size.resize(n.max(from), 1);
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// True when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// The representative of `x`'s set.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    /// Joins the sets of `a` and `b`; returns false when they were already one set.
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (big, small) = if self.size[ra as usize] >= self.size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
        true
    }

    /// The sets with two or more elements, each sorted, ordered by their smallest element.
    pub fn groups(&mut self) -> Vec<Vec<u32>> {
        let n = self.len();
        let mut slot = vec![u32::MAX; n];
        let mut groups: Vec<Vec<u32>> = Vec::new();
        for x in 0..n as u32 {
            let r = self.find(x);
            if self.size[r as usize] < 2 {
                continue;
            }
            if slot[r as usize] == u32::MAX {
                slot[r as usize] = groups.len() as u32;
                groups.push(Vec::with_capacity(self.size[r as usize] as usize));
            }
            groups[slot[r as usize] as usize].push(x);
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unions_and_groups() {
        let mut uf = UnionFind::new(6);
        assert!(uf.union(4, 1));
        assert!(uf.union(1, 5));
        assert!(!uf.union(5, 4));
        assert!(uf.union(3, 2));
        assert_eq!(uf.groups(), vec![vec![1, 4, 5], vec![2, 3]]);
    }

    proptest! {
        #[test]
        fn groups_match_naive_components(edges in proptest::collection::vec((0u32..40, 0u32..40), 0..60)) {
            let mut uf = UnionFind::new(40);
            for &(a, b) in &edges {
                uf.union(a, b);
            }
            // Naive: label propagation until stable.
            let mut label: Vec<u32> = (0..40).collect();
            loop {
                let mut changed = false;
                for &(a, b) in &edges {
                    let m = label[a as usize].min(label[b as usize]);
                    for x in [a, b] {
                        if label[x as usize] != m {
                            label[x as usize] = m;
                            changed = true;
                        }
                    }
                }
                if !changed {
                    break;
                }
            }
            let mut naive: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
            for x in 0..40u32 {
                naive.entry(label[x as usize]).or_default().push(x);
            }
            let mut expected: Vec<Vec<u32>> = naive.into_values().filter(|g| g.len() > 1).collect();
            expected.sort();
            prop_assert_eq!(uf.groups(), expected);
        }
    }
}
