/// The paper's networks (RSO, Tripathi & Singh 2020).
public enum NetworkZoo {
    public static let names = ["mnist6", "cifar-depth3", "cifar-depth5", "cifar-depth10"]

    /// nil when the name is unknown (callers list `names` in their error).
    public static func network(named name: String) -> NetworkSpec? {
        switch name {
        case "mnist6": return mnist6()
        case "cifar-depth3": return cifarDepth3()
        case "cifar-depth5": return cifarDepth5()
        case "cifar-depth10": return cifarDepth10()
        default: return nil
        }
    }

    /// The dataset format a network's input shape expects.
    public static func datasetFormat(for net: NetworkSpec) -> DatasetFormat {
        net.inputChannels == 1 ? .idx : .cifar10
    }

    /// MNIST: 6 conv 3×3 16 ch, each BN+ReLU, 2×2 avg-pool after conv2 and conv4, global pool,
    /// FC 16→10. |W| = 11,824.
    public static func mnist6() -> NetworkSpec {
        var b = NetworkBuilder(name: "mnist6", inputChannels: 1, height: 28, width: 28, classes: 10)
        b.convBN(16); b.convBN(16); b.avgPool2()
        b.convBN(16); b.convBN(16); b.avgPool2()
        b.convBN(16); b.convBN(16)
        b.globalAvgPool(); b.fc(10)
        return b.build()
    }

    /// CIFAR-10 Depth-3: conv1 3→16, conv2 16→32 at 32×32, avg-pool, global pool, FC 32→10.
    public static func cifarDepth3() -> NetworkSpec {
        var b = NetworkBuilder(name: "cifar-depth3", inputChannels: 3, height: 32, width: 32, classes: 10)
        b.convBN(16)
        b.convBN(32); b.avgPool2()
        b.globalAvgPool(); b.fc(10)
        return b.build()
    }

    /// CIFAR-10 Depth-5: conv1 3→16, conv2 16→16 (32×32), pool, conv3 16→32 (16×16), pool,
    /// conv4 32→32 (8×8), global pool, FC 32→10.
    public static func cifarDepth5() -> NetworkSpec {
        var b = NetworkBuilder(name: "cifar-depth5", inputChannels: 3, height: 32, width: 32, classes: 10)
        b.convBN(16)
        b.convBN(16); b.avgPool2()
        b.convBN(32); b.avgPool2()
        b.convBN(32)
        b.globalAvgPool(); b.fc(10)
        return b.build()
    }

    /// CIFAR-10 Depth-10: conv1 3→16; conv2 stage one basic block 16 (32×32); pool; conv3 stage one
    /// basic block 16→32 (16×16, zero-padded shortcut); pool; conv4 stage two basic blocks 32
    /// (8×8); global pool; FC 32→10. |W| = 56,048, F = 11,059,520 MACs/sample.
    public static func cifarDepth10() -> NetworkSpec {
        var b = NetworkBuilder(name: "cifar-depth10", inputChannels: 3, height: 32, width: 32, classes: 10)
        b.convBN(16)
        b.basicBlock(16); b.avgPool2()
        b.basicBlock(32); b.avgPool2()
        b.basicBlock(32); b.basicBlock(32)
        b.globalAvgPool(); b.fc(10)
        return b.build()
    }
}
