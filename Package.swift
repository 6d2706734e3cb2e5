// swift-tools-version:6.0
import PackageDescription

// MARK: - C flags (each one and why: docs/toolchain.md)
// The toolchain's clang ships no omp.h; Debian's libomp-dev header is passed with -idirafter so
// clang's own compiler headers stay in front.
let ompInclude = "/usr/lib/llvm-14/lib/clang/14.0.6/include"
let cFlags: [CSetting] = [
    .unsafeFlags(["-fopenmp", "-idirafter", ompInclude]),
    .unsafeFlags(["-O3", "-mavx2", "-mfma", "-ffp-contract=fast"], .when(configuration: .release)),
]

// MARK: - Targets
let package = Package(
    name: "rso-engine",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "RSOEngine", targets: ["RSOEngine"]),
        .executable(name: "rso", targets: ["rso"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "CSupport",
            path: "CSupport",
            cSettings: cFlags,
            linkerSettings: [
                .linkedLibrary("omp5"),  // Debian's libomp5.so: there is no plain libomp.so
                .linkedLibrary("openblas"),
                .linkedLibrary("hwloc"),
                .linkedLibrary("z"),
            ]
        ),
        // Open MPI, found through pkg-config (ompi-c); used only when launched by mpirun.
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "RSOEngine", dependencies: ["CSupport", "CMPI"], path: "Sources/RSOEngine"),
        // Commands live in a library so tests can parse them and assert their errors.
        .target(
            name: "RSOCLI",
            dependencies: ["RSOEngine", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/RSOCLI"
        ),
        .executableTarget(name: "rso", dependencies: ["RSOCLI"], path: "Sources/rso"),
        .testTarget(name: "RSOEngineTests", dependencies: ["RSOEngine", "RSOCLI", "CSupport"], path: "Tests/RSOEngineTests"),
    ]
)
