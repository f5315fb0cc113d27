//! `*` wildcards as Elasticsearch's `Regex.simpleMatch` reads them (no other metacharacters), and
//! whether two pattern lists can match a common name: the check behind "multiple index templates may
//! not match during index creation", which Elasticsearch does by intersecting automatons.

/// Whether `value` matches `pattern`, where `*` stands for any run of characters.
pub fn simple_match(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    // Classic greedy wildcard matching with one backtrack point.
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < v.len() {
        if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if i < p.len() && p[i] == v[j] {
            i += 1;
            j += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

pub fn any_match(patterns: &[String], value: &str) -> bool {
    patterns.iter().any(|p| simple_match(p, value))
}

/// Whether some name matches a pattern of `a` and a pattern of `b`.
pub fn overlap(a: &[String], b: &[String]) -> bool {
    a.iter().any(|x| b.iter().any(|y| intersect(x, y)))
}

/// Whether two wildcard patterns share a match: a search over pairs of positions, where a `*`
/// either stops (moves on) or takes the other side's next character.
fn intersect(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut seen = vec![vec![false; b.len() + 1]; a.len() + 1];
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, j)) = stack.pop() {
        if seen[i][j] {
            continue;
        }
        seen[i][j] = true;
        if i == a.len() && j == b.len() {
            return true;
        }
        let star_a = a.get(i) == Some(&'*');
        let star_b = b.get(j) == Some(&'*');
        if star_a {
            stack.push((i + 1, j));
        }
        if star_b {
            stack.push((i, j + 1));
        }
        match (a.get(i), b.get(j)) {
            (Some(_), Some(_)) if star_a && !star_b => stack.push((i, j + 1)),
            (Some(_), Some(_)) if star_b && !star_a => stack.push((i + 1, j)),
            (Some(x), Some(y)) if !star_a && !star_b && x == y => stack.push((i + 1, j + 1)),
            _ => {}
        }
    }
    false
}

pub fn is_wildcard(text: &str) -> bool {
    text.contains('*')
}
