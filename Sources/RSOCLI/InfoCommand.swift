import ArgumentParser
import Foundation
import RSOEngine

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Show CPU, cores, NUMA nodes (hwloc), the BLAS in use and the scheduler with its threads.")

    @Option(name: .long, help: ArgumentHelp("Describe an hwloc synthetic topology instead of this machine, e.g. \"pack:2 numa:2 core:8 pu:1\".", valueName: "synthetic"))
    var topology: String?

    @OptionGroup var threads: ThreadOptions

    @Option(name: .long, help: "Also show the activation cache every rank holds for this network: \(NetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var net: NetName?
    @Option(name: .long, help: "Training images for --net's cache size. Default: the network's data set (MNIST 60000, CIFAR-10 50000).")
    var trainSamples: Int?

    func validate() throws {
        if let n = trainSamples, n < 1 { throw ValidationError("--train-samples must be a positive number of images, got \(n)") }
    }

    func run() throws {
        let group: ProcessGroup
        do { group = try ProcessGroups.current() } catch { throw CLIError(description: "\(error)") }
        let nodes = try group.nodeCount()  // a collective: every rank takes part
        guard group.rank == 0 else { return }  // rank 0 speaks for the job
        let topo: MachineInfo
        do {
            topo = try MachineInfo.topology(synthetic: topology)
        } catch {
            throw ValidationError("--topology: \(error)")
        }
        print(topology == nil ? "machine" : "synthetic topology \"\(topology!)\"")
        print("  cpu:          \(topo.cpuModel)")
        print("  packages:     \(topo.packages)")
        print("  numa nodes:   \(topo.numaNodes)")
        print("  cores:        \(topo.cores)")
        print("  pus:          \(topo.processingUnits)")
        print("blas:           \(MachineInfo.blasConfiguration)")
        print("  blas threads: \(MachineInfo.blasThreads) (the engine sets 1: workers own parallelism)")
        let cores: [CoreInfo]
        do {
            cores = topology == nil ? try ThreadOptions.cores() : try MachineInfo.cores(synthetic: topology)
        } catch {
            throw ValidationError("--topology: \(error)")
        }
        let threadsPerRank: Int
        var numaNodes = 1
        switch threads.scheduler {
        case .pool:
            let plan = ThreadPlan.make(cores: cores, threads: threads.threads, numa: threads.numaAware)
            print("scheduler:      pool (the engine's hwloc-pinned workers; --scheduler openmp for an OpenMP team)")
            print("worker plan:    " + plan.description)
            threadsPerRank = plan.workers.count
            numaNodes = plan.replicas
        case .openmp:
            let team: (threads: Int, source: OpenMPScheduler.TeamSizeSource)
            do {
                team = try OpenMPScheduler.teamSize(threads: threads.threads, environment: ProcessInfo.processInfo.environment,
                                                    cores: cores.count)
            } catch {
                throw ValidationError("\(error)")
            }
            print("scheduler:      openmp, a team of \(team.threads) (from \(team.source.rawValue)); \(OpenMPScheduler.placement)")
            print("                precedence: --threads, then OMP_NUM_THREADS, then one per physical core")
            threadsPerRank = team.threads
        }
        print("processes:      \(group.size) rank\(group.size == 1 ? "" : "s") on \(nodes) node\(nodes == 1 ? "" : "s")"
              + (group.size > 1 ? " (this is rank \(group.rank); MPI)" : " (no MPI launcher)"))
        print("run plan:       \(group.size) rank\(group.size == 1 ? "" : "s") × \(threadsPerRank) threads, \(numaNodes) NUMA node\(numaNodes == 1 ? "" : "s") per rank")
        if let net {
            let samples = trainSamples ?? RankMemory.standardTrainingSamples(net.spec)
            if let cache = RankMemory.largestCache(network: net.spec, samples: samples) {
                print("cache per rank: up to \(formatCount(Double(cache.bytes * numaNodes)))B for \(net.rawValue) (\(cache.layer)'s input over \(grouped(samples)) images × \(numaNodes) NUMA replica\(numaNodes == 1 ? "" : "s")); every rank holds the whole cache, whatever the rank count")
            }
        }
    }
}
