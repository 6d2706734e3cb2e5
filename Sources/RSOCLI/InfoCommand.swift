import ArgumentParser
import Foundation
import RSOEngine

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Show CPU, cores, NUMA nodes (hwloc), the BLAS in use and the scheduler with its threads.")

    @Option(name: .long, help: ArgumentHelp("Describe an hwloc synthetic topology instead of this machine, e.g. \"pack:2 numa:2 core:8 pu:1\".", valueName: "synthetic"))
    var topology: String?

    @OptionGroup var threads: ThreadOptions

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
            cores = try MachineInfo.cores(synthetic: topology)
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
    }
}
