# isol8d on every Nomad client that should run boxes: a system job, one
# allocation per eligible node, with the HTTP bridge (isol8ctl serve)
# beside the daemon.  Put HAProxy with deploy/haproxy/isol8.cfg in front
# (its node list: each client's address, port 3000), or generate that
# list from the service registered below.
#
# The binaries are installed on each client (make install, which also
# installs the systemd units this job replaces); the runtimes the boxes
# see are the client's /opt/isol8/runtimes (tools/install-deps.sh).
#
#   nomad var put nomad/jobs/isol8d apiKey=MASTER_KEY \
#       authDb=postgres://USER:PASSWORD@HOST/DB
#   nomad job run isol8d.nomad.hcl
# The key database is shared by every node, so a key made through one
# works on all.

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

job "isol8d" {
  type        = "system"
  datacenters = var.datacenters

  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }

  # Only clients marked for it run boxes (client meta isol8_sandbox).
  constraint {
    attribute = "${meta.isol8_sandbox}"
    value     = "true"
  }

  update {
    max_parallel = 1
    stagger      = "30s"
  }

  group "node" {
    network {
      port "http" {
        static = 3000
      }
    }

    # Registered for HAProxy's node list; the check is the bridge's own
    # health: whether the node takes new work (GET /ready) is HAProxy's
    # check, so that a draining node keeps its sessions.
    service {
      name     = "isol8-node"
      port     = "http"
      provider = "nomad"

      check {
        type     = "http"
        path     = "/health"
        interval = "10s"
        timeout  = "2s"
      }
    }

    task "isol8d" {
      # isol8d is a container runtime: it must be real root on the host
      # (user namespaces with host uid ranges, mounts, pivot_root, cgroups
      # for each box, network links), with no container runtime's seccomp
      # or AppArmor profile between it and the kernel and an unmasked
      # /proc.  raw_exec runs it as the systemd unit would; the client
      # must enable the raw_exec plugin.
      driver = "raw_exec"

      config {
        command = "/usr/local/sbin/isol8d"
        args    = ["--socket", "/run/isol8/isol8.sock"]
      }

      # Started before the bridge, and kept running beside it.
      lifecycle {
        hook    = "prestart"
        sidecar = true
      }

      # SIGTERM: isol8d stops its boxes and cleans up.
      kill_signal  = "SIGTERM"
      kill_timeout = "30s"

      resources {
        cpu    = 500
        memory = 512
      }
    }

    task "bridge" {
      # The bridge needs no privilege: it speaks HTTP and reaches the
      # daemon over its socket as user isol8 (group of the socket).
      driver = "raw_exec"
      user   = "isol8"

      config {
        command = "/usr/local/bin/isol8ctl"
        args = [
          "--socket", "/run/isol8/isol8.sock", "serve",
          "--port", "${NOMAD_PORT_http}",
          "--auth-db", "${ISOL8_AUTH_DB}",
          "--node-name", "${node.unique.name}",
          "--drain-timeout", "45",
        ]
      }

      # The master key and the key database's URL (with its password)
      # stay out of the job file; the URL is on the bridge's command line
      # on the node, as with the systemd unit's --auth-db.
      template {
        destination = "secrets/env"
        env         = true
        data        = <<-EOT
          {{ with nomadVar "nomad/jobs/isol8d" }}
          ISOL8_API_KEY={{ .apiKey }}
          ISOL8_AUTH_DB={{ .authDb }}
          {{ end }}
        EOT
      }

      # SIGTERM drains the bridge: executions in flight finish while
      # HAProxy moves new work away (SIGINT, Nomad's default, would stop
      # it at once).
      kill_signal  = "SIGTERM"
      kill_timeout = "50s"

      resources {
        cpu    = 200
        memory = 128
      }
    }
  }
}
