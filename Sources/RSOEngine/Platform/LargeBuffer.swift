import CSupport

/// Batch-wide activations and whole-set caches: allocated on huge pages where the OS allows it
/// (CSupport/huge_pages.c), freed with `free`. Nothing else differs from `allocate(capacity:)`.
enum LargeBuffer {
    static func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
        guard let p = cs_alloc_floats_huge(count) else {
            fatalError("out of memory allocating \(count * MemoryLayout<Float>.size) bytes of activations")
        }
        return p
    }

    static func free(_ p: UnsafeMutablePointer<Float>?) { cs_free_floats_huge(p) }
}
