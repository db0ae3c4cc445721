//! The trait impls, and the `Send` / `Sync` bounds compared with std's at
//! compile time.

use super::*;

#[test]
fn traits() {
    let a = Arc::new(5);
    assert_eq!(format!("{a:?} {a} {a:>3}"), "5 5   5");
    assert_eq!(format!("{a:p}"), format!("{:p}", Arc::as_ptr(&a)));
    assert_eq!(format!("{:?}", Arc::downgrade(&a)), "(Weak)");
    let b = Arc::new(6);
    assert!(a < b);
    assert!(a <= b);
    assert!(b > a);
    assert!(b >= a);
    assert!(a != b);
    assert_eq!(a.cmp(&b), std::cmp::Ordering::Less);
    assert_eq!(a.partial_cmp(&b), Some(std::cmp::Ordering::Less));
    let nan = Arc::new(f64::NAN);
    assert!(nan != nan.clone(), "PartialEq compares values");
    assert_eq!(nan.partial_cmp(&nan), None);
    let set: HashSet<Arc<i32>> = [a.clone(), Arc::new(5), b.clone()].into_iter().collect();
    assert_eq!(set.len(), 2);
    let bset: BTreeSet<Arc<i32>> = [b.clone(), a.clone()].into_iter().collect();
    assert_eq!(bset.iter().map(|x| **x).collect::<Vec<_>>(), [5, 6]);
    let mut map: HashMap<Arc<String>, u8> = HashMap::new();
    map.insert(Arc::new("k".to_string()), 1);
    let key = String::from("k");
    assert_eq!(map.get(&key), Some(&1), "Borrow<T>");
    let d: Arc<Vec<u8>> = Arc::default();
    assert!(d.is_empty());
    let f: Arc<i32> = 9.into();
    let g: Arc<i32> = Arc::from(Box::new(10));
    assert_eq!((*f, *g), (9, 10));
    let r: &i32 = a.as_ref();
    assert_eq!(*r, 5);
    let pinned = Arc::pin(11);
    assert_eq!(*pinned, 11);
}

/// Compile-time: `Send` / `Sync` of ours equal std's for each `T` (the
/// ambiguity trick: the associated const below resolves only if the bound
/// is NOT met, so `not_send!` fails to compile on a `Send` type).
#[test]
fn send_sync_bounds_as_std() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    macro_rules! not_impl {
        ($tr:path, $t:ty) => {{
            trait Ambiguous<A> {
                const OK: () = ();
            }
            impl<T: ?Sized> Ambiguous<()> for T {}
            #[allow(dead_code)]
            struct Invalid;
            impl<T: ?Sized + $tr> Ambiguous<Invalid> for T {}
            let () = <$t as Ambiguous<_>>::OK;
        }};
    }
    // Send + Sync T: both are Send + Sync.
    send::<Arc<i32>>();
    sync::<Arc<i32>>();
    send::<Weak<i32>>();
    sync::<Weak<i32>>();
    send::<Arc<Mutex<i32>>>();
    sync::<Weak<Mutex<i32>>>();
    // Send but not Sync (Cell): std's Arc is neither; so is ours.
    not_impl!(Send, std::sync::Arc<Cell<i32>>);
    not_impl!(Send, Arc<Cell<i32>>);
    not_impl!(Sync, Arc<Cell<i32>>);
    not_impl!(Send, Weak<Cell<i32>>);
    not_impl!(Sync, Weak<Cell<i32>>);
    // Sync but not Send (MutexGuard): neither, as std.
    not_impl!(Send, std::sync::Arc<std::sync::MutexGuard<'static, i32>>);
    not_impl!(Send, Arc<std::sync::MutexGuard<'static, i32>>);
    not_impl!(Sync, Arc<std::sync::MutexGuard<'static, i32>>);
    // Rc: neither.
    not_impl!(Send, Arc<std::rc::Rc<i32>>);
    // Unpin whatever T, as std.
    fn unpin<T: Unpin>() {}
    unpin::<Arc<std::marker::PhantomPinned>>();
    fn unwind_safe<T: std::panic::UnwindSafe>() {}
    unwind_safe::<Arc<Mutex<i32>>>();
    // Covariant in T, as std (a longer lifetime coerces to a shorter one).
    fn shorten<'a>(a: Arc<&'static str>, w: Weak<&'static str>) -> (Arc<&'a str>, Weak<&'a str>) {
        (a, w)
    }
    let a = Arc::new("static");
    let w = Arc::downgrade(&a);
    let (a, w) = shorten(a, w);
    assert_eq!(*w.upgrade().unwrap(), *a);
    // One pointer wide, with a niche, as std.
    assert_eq!(
        std::mem::size_of::<Arc<u64>>(),
        std::mem::size_of::<usize>()
    );
    assert_eq!(
        std::mem::size_of::<Option<Arc<u64>>>(),
        std::mem::size_of::<usize>()
    );
    assert_eq!(
        std::mem::size_of::<Weak<u64>>(),
        std::mem::size_of::<usize>()
    );
}
