// A program written against std's `Arc` / `Weak` API, compiled twice by
// `tests/arc_use_line.rs`: once after `use std::sync::{Arc, Weak};` and once
// after `use pageref::sync::{Arc, Weak};`. It names the types in
// signatures, fields, generic bounds and trait impls the way user code
// does, calls every function of the sized-`T` API, and records what it
// observes; both builds must record the same.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::thread;

/// A tree with parent back-pointers: the textbook use of `Weak`.
pub struct Node {
    pub name: String,
    pub parent: Mutex<Weak<Node>>,
    pub children: Mutex<Vec<Arc<Node>>>,
}

impl Node {
    pub fn new(name: &str) -> Arc<Node> {
        Arc::new(Node {
            name: name.to_string(),
            parent: Mutex::new(Weak::new()),
            children: Mutex::new(Vec::new()),
        })
    }

    pub fn adopt(parent: &Arc<Node>, child: Arc<Node>) {
        *child.parent.lock().unwrap() = Arc::downgrade(parent);
        parent.children.lock().unwrap().push(child);
    }

    // (Not `self: &Arc<Self>`: method receivers of type `Arc<Self>` need
    // std's own `Arc` on stable Rust; see the `pageref::sync` docs.)
    pub fn path(this: &Arc<Self>) -> String {
        match this.parent.lock().unwrap().upgrade() {
            Some(p) => format!("{}/{}", Node::path(&p), this.name),
            None => this.name.clone(),
        }
    }
}

/// A cache of weak handles, upgraded from several threads.
#[derive(Default)]
pub struct Cache {
    map: Mutex<HashMap<u32, Weak<String>>>,
}

impl Cache {
    pub fn get_or_insert(&self, k: u32, make: impl FnOnce() -> String) -> Arc<String> {
        let mut m = self.map.lock().unwrap();
        if let Some(v) = m.get(&k).and_then(Weak::upgrade) {
            return v;
        }
        let v: Arc<String> = Arc::new(make());
        m.insert(k, Arc::downgrade(&v));
        v
    }
    pub fn live(&self) -> usize {
        self.map.lock().unwrap().values().filter(|w| w.strong_count() > 0).count()
    }
}

/// A trait of the user's, implemented for `Arc<Local>`.
pub trait Describe {
    fn describe(&self) -> String;
}

impl Describe for Arc<Node> {
    fn describe(&self) -> String {
        format!("{} ({} strong)", self.name, Arc::strong_count(self))
    }
}

fn needs_send_sync<T: Send + Sync + 'static>(t: T) -> T {
    t
}

/// Self-referential via `new_cyclic`.
pub struct Gadget {
    me: Weak<Gadget>,
    pub id: u8,
}

impl Gadget {
    pub fn me(&self) -> Arc<Gadget> {
        self.me.upgrade().unwrap()
    }
}

pub fn run() -> Vec<String> {
    let mut log = Vec::new();
    let mut say = |s: String| log.push(s);

    // Construction, turbofish with one parameter, conversions.
    let a = Arc::new(5);
    let b: Arc<i32> = Arc::<i32>::new(6);
    let c: Arc<i32> = 7.into();
    let d: Arc<i32> = Arc::from(Box::new(8));
    let e: Arc<Vec<u8>> = Default::default();
    say(format!("{a} {b} {c} {d} {:?} {}", e, e.len()));

    // Counts.
    let a2 = Arc::clone(&a);
    let w = Arc::downgrade(&a);
    say(format!(
        "counts {} {} {} {}",
        Arc::strong_count(&a),
        Arc::weak_count(&a),
        w.strong_count(),
        w.weak_count()
    ));
    drop(a2);

    // get_mut, make_mut, try_unwrap, into_inner, unwrap_or_clone.
    let mut m = Arc::new(String::from("m"));
    Arc::get_mut(&mut m).unwrap().push('1');
    let m2 = m.clone();
    say(format!("get_mut shared: {}", Arc::get_mut(&mut m).is_none()));
    Arc::make_mut(&mut m).push('2');
    say(format!("make_mut: {m} {m2} {}", Arc::ptr_eq(&m, &m2)));
    let wm = Arc::downgrade(&m);
    Arc::make_mut(&mut m).push('3');
    say(format!("make_mut with weak: {m} {}", wm.upgrade().is_none()));
    say(format!("try_unwrap: {:?}", Arc::try_unwrap(m2.clone()).map_err(|x| x.len())));
    drop(m2);
    say(format!("into_inner: {:?}", Arc::into_inner(m)));
    let u = Arc::new(vec![1, 2]);
    let u2 = u.clone();
    say(format!("unwrap_or_clone: {:?} {:?}", Arc::unwrap_or_clone(u), Arc::unwrap_or_clone(u2)));

    // Upgrade after the last drop; Weak::new; Weak::default.
    drop(a);
    say(format!("upgrade after drop: {:?}", w.upgrade()));
    let n: Weak<u8> = Weak::new();
    let nd: Weak<u8> = Weak::default();
    say(format!("dangling: {:?} {} {}", n.upgrade(), n.strong_count(), n.ptr_eq(&nd)));

    // Raw pointers.
    let r = Arc::new(String::from("raw"));
    let p: *const String = Arc::into_raw(r);
    // SAFETY: `p` comes from `Arc::into_raw` and owns one reference.
    let r = unsafe {
        Arc::increment_strong_count(p);
        Arc::decrement_strong_count(p);
        Arc::from_raw(p)
    };
    let wr = Arc::downgrade(&r);
    let wp = wr.into_raw();
    // SAFETY: from `Weak::into_raw`.
    let wr = unsafe { Weak::from_raw(wp) };
    say(format!(
        "raw: {} {} {}",
        r,
        Arc::as_ptr(&r) == p,
        wr.as_ptr() == Arc::as_ptr(&r)
    ));
    say(format!("pointer fmt: {}", format!("{r:p}") == format!("{p:p}")));

    // Comparisons, hashing, ordering, Borrow.
    let mut v = vec![Arc::new(3), Arc::new(1), Arc::new(2)];
    v.sort();
    let max = v.iter().max().cloned();
    say(format!("sorted: {v:?} max {max:?} eq {}", Arc::new(1) == Arc::new(1)));
    let mut bt: BTreeMap<Arc<String>, u8> = BTreeMap::new();
    bt.insert(Arc::new("k".into()), 1);
    let k: &String = &"k".to_string();
    say(format!("borrow lookup: {:?}", bt.get(k)));
    let as_ref: &String = bt.keys().next().unwrap().as_ref();
    say(format!("as_ref: {as_ref}"));

    // Trees with Weak parents, a trait on Arc<Local>, threads.
    let root = Node::new("root");
    let kid = Node::new("kid");
    Node::adopt(&root, kid.clone());
    say(format!("path: {} / {}", Node::path(&kid), kid.describe()));
    let root = needs_send_sync(root);
    let handles: Vec<thread::JoinHandle<String>> = (0..3)
        .map(|i| {
            let k = kid.clone();
            thread::spawn(move || format!("{i}:{}", Node::path(&k)))
        })
        .collect();
    let mut paths: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    paths.sort();
    say(format!("threads: {paths:?}"));
    drop(root);
    say(format!("orphan: {}", Node::path(&kid)));

    // A cache of Weak handles.
    let cache = Cache::default();
    let x = cache.get_or_insert(1, || "one".into());
    let y = cache.get_or_insert(1, || unreachable!());
    say(format!("cache: {} {} live {}", Arc::ptr_eq(&x, &y), x, cache.live()));
    drop((x, y));
    say(format!("cache after drop: live {}", cache.live()));

    // new_cyclic and pin.
    let g = Arc::new_cyclic(|me: &Weak<Gadget>| Gadget { me: me.clone(), id: 9 });
    say(format!("cyclic: {} {}", g.me().id, Arc::ptr_eq(&g, &g.me())));
    let pinned = Arc::pin(42);
    say(format!("pin: {}", *pinned));

    // Debug output of a Weak; Display through a format string.
    let mut out = String::new();
    write!(out, "{:?} {:>4}", Arc::downgrade(&g), Arc::new(1)).unwrap();
    say(out);
    log
}
