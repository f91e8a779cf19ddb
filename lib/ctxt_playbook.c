/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The playbooks of a contextualization run, in order: IM's basic step (hostname, /etc/hosts,
 * data disks), then the user steps of the contextualize sentence, then the credential
 * changes.
 *
 * A step is one ansible-playbook run with one play per (configure, system), in the order of
 * the contextualize items.  Each play runs on every VM of its system at once; the plays of a
 * step follow each other inside that one run.  This keeps a step's output in one ordered log
 * and one set of SSH connections, and a VM that fails a play drops out of the step's later
 * plays as Ansible does; the price is that two configures of one step on different systems do
 * not overlap in time (IM's agents would run them side by side).
 *
 * The parts (basic step, user steps, credentials) run in one ansible-playbook, site.yml: a
 * second Ansible start costs more than any of imc's own work (bench/ctxt).  Each part follows a
 * marker play the driver reads back from the output; a retry runs one part's playbook alone.
 *
 * Facts are gathered once per VM and cached for the run (gathering = smart with a jsonfile
 * cache): the basic step needs none, a user recipe gets them at its first play. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "ctxt_int.h"
#include "imc/alloc.h"

/* The names of the marker plays the driver reads back from Ansible's output. */
#define CTXT_MARKER      "imc: part "
#define CTXT_PLAY_MARKER "imc: play "

void ctxt_yaml_quote(struct imc_buf *out, const char *s)
{
  imc_buf_addc(out, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      imc_buf_addf(out, "\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f)
      imc_buf_addf(out, "\\x%02x", *p);
    else
      imc_buf_addc(out, (char)*p);
  }
  imc_buf_addc(out, '"');
}

static int buf_result(const struct imc_buf *out, const char *what, struct imc_err *err)
{
  if (imc_buf_err(out))
    return imc_fail(err, imc_buf_err(out), "the %s is too large", what);
  return 0;
}

/* --- steps ----------------------------------------------------------------------------- */

bool ctxt_system_disabled(const struct imc_doc *doc, const char *system)
{
  const struct imc_configure *c = imc_doc_configure(doc, system);

  return c && !c->reference && !c->recipe;
}

static bool has_system(const char *const *systems, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++) {
    if (strcmp(systems[i], name) == 0)
      return true;
  }
  return false;
}

static int add_play(struct ctxt_steps *s, double step, const char *configure, const char *system)
{
  size_t i = 0;
  struct ctxt_step *st;

  while (i < s->n && s->v[i].step < step)
    i++;
  if (i == s->n || s->v[i].step != step) {
    if (imc_grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v))
      return IMC_E_NOMEM;
    memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof *s->v);
    memset(&s->v[i], 0, sizeof s->v[i]);
    s->v[i].step = step;
    s->n++;
  }
  st = &s->v[i];
  if (imc_grow((void **)&st->plays, &st->cap, st->n + 1, sizeof *st->plays))
    return IMC_E_NOMEM;
  st->plays[st->n++] = (struct ctxt_play){.configure = configure, .system = system};
  return 0;
}

static bool runnable(const struct imc_doc *doc, const char *configure)
{
  const struct imc_configure *c = imc_doc_configure(doc, configure);

  return c && c->recipe;
}

int ctxt_steps_plan(const struct imc_doc *doc, const char *const *systems, size_t nsystems,
                    struct ctxt_steps *out, struct imc_err *err)
{
  struct ctxt_steps s = {0};
  int r = 0;

  memset(out, 0, sizeof *out);
  if (doc->ctxt.nitems) {
    for (size_t i = 0; i < doc->ctxt.nitems && !r; i++) {
      const struct imc_ctxt_item *it = doc->ctxt.items[i];

      if ((it->tool && strcmp(it->tool, "Ansible") != 0) ||
          !has_system(systems, nsystems, it->system) || !runnable(doc, it->configure) ||
          ctxt_system_disabled(doc, it->system))
        continue;
      r = add_play(&s, imc_num_value(it->step), it->configure, it->system);
    }
  } else {
    /* IM's default: each system runs the configure with its own name. */
    for (size_t i = 0; i < doc->nconfigures && !r; i++) {
      const struct imc_configure *c = doc->configures[i];

      if (c->recipe && has_system(systems, nsystems, c->id))
        r = add_play(&s, 1, c->id, c->id);
    }
  }
  if (r) {
    ctxt_steps_free(&s);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  *out = s;
  return 0;
}

void ctxt_steps_free(struct ctxt_steps *s)
{
  for (size_t i = 0; i < s->n; i++)
    imc_free(s->v[i].plays);
  imc_free(s->v);
  memset(s, 0, sizeof *s);
}

/* --- ansible.cfg --------------------------------------------------------------------- */

int ctxt_ansible_cfg(const struct ctxt_infra *inf, const char *dir, struct imc_buf *out,
                     struct imc_err *err)
{
  imc_buf_addf(out,
               "# Written by imc for infrastructure %s.\n"
               "[defaults]\n"
               "inventory = %s/hosts\n"
               "host_key_checking = True\n"
               "gathering = smart\n"
               "fact_caching = jsonfile\n"
               "fact_caching_connection = %s\n"
               "fact_caching_timeout = 0\n"
               "interpreter_python = /usr/bin/python3\n"
               "retry_files_enabled = False\n"
               "deprecation_warnings = False\n"
               "nocows = True\n"
               "forks = 20\n"
               "timeout = 30\n"
               "local_tmp = %s/tmp\n"
               /* disk.0.applications' roles and collections (ansible-galaxy), then the usual
                * places */
               "roles_path = %s/roles:~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles\n"
               "collections_path = %s/collections:~/.ansible/collections:"
               "/usr/share/ansible/collections\n"
               "\n[ssh_connection]\n"
               "pipelining = True\n"
               /* The masters stay in ansible-playbook's process group, which ctxt_run kills
                * once the run is over: none outlives it. */
               "ssh_args = -o ControlMaster=auto -o ControlPersist=30s "
               "-o ServerAliveInterval=15 -o ServerAliveCountMax=4\n"
               "control_path_dir = %s%s\n"
               "retries = 2\n",
               inf->id, dir, inf->facts_dir, dir, dir, dir, inf->control_dir ? inf->control_dir : dir,
               inf->control_dir ? "" : "/cp");
  return buf_result(out, "ansible.cfg", err);
}

/* --- the basic step ------------------------------------------------------------------ */

static const char basic_tasks[] =
  "  tasks:\n"
  "    - name: Set the hostname to the node's FQDN\n"
  "      ansible.builtin.copy:\n"
  "        dest: /etc/hostname\n"
  "        content: \"{{ IM_NODE_FQDN }}\\n\"\n"
  "        mode: \"0644\"\n"
  "        unsafe_writes: true\n"
  "    - name: Apply the hostname now\n"
  "      ansible.builtin.command:\n"
  "        argv: [hostname, \"{{ IM_NODE_FQDN }}\"]\n"
  "      changed_when: false\n"
  "    - name: Look for a filesystem on each data disk\n"
  "      ansible.builtin.command:\n"
  "        argv: [blkid, -o, value, -s, TYPE, \"{{ item.device }}\"]\n"
  "      loop: \"{{ IMC_DISKS | default([]) }}\"\n"
  "      register: imc_blkid\n"
  "      changed_when: false\n"
  "      failed_when: imc_blkid.rc not in [0, 2]\n"
  "    - name: Format the data disks that have no filesystem\n"
  "      ansible.builtin.command:\n"
  "        argv: [\"{{ 'mkswap' if item.item.fstype == 'swap' else 'mkfs.' ~ item.item.fstype"
  " }}\", \"{{ item.item.device }}\"]\n"
  "      loop: \"{{ imc_blkid.results | default([]) }}\"\n"
  "      when: item.stdout | default('') | length == 0\n"
  "    - name: Create the mount points\n"
  "      ansible.builtin.file:\n"
  "        path: \"{{ item.mount_path }}\"\n"
  "        state: directory\n"
  "        mode: \"0755\"\n"
  "      loop: \"{{ IMC_DISKS | default([]) | rejectattr('fstype', 'equalto', 'swap') | list"
  " }}\"\n"
  "    - name: Look for the mounted data disks\n"
  "      ansible.builtin.command:\n"
  "        argv: [findmnt, -rn, \"{{ item.mount_path }}\"]\n"
  "      loop: \"{{ IMC_DISKS | default([]) | rejectattr('fstype', 'equalto', 'swap') | list"
  " }}\"\n"
  "      register: imc_findmnt\n"
  "      changed_when: false\n"
  "      failed_when: false\n"
  "    - name: Mount the data disks\n"
  "      ansible.builtin.command:\n"
  "        argv: [mount, -t, \"{{ item.item.fstype }}\", \"{{ item.item.device }}\","
  " \"{{ item.item.mount_path }}\"]\n"
  "      loop: \"{{ imc_findmnt.results | default([]) }}\"\n"
  "      when: item.rc != 0\n"
  "    - name: Mount the data disks at boot\n"
  "      ansible.builtin.lineinfile:\n"
  "        path: /etc/fstab\n"
  "        line: \"{{ item.device }} {{ item.mount_path }} {{ item.fstype }} defaults,nofail 0 "
  "2\"\n"
  "        unsafe_writes: true\n"
  "      loop: \"{{ IMC_DISKS | default([]) | rejectattr('fstype', 'equalto', 'swap') | list"
  " }}\"\n"
  "    - name: Look for the active swap devices\n"
  "      ansible.builtin.command:\n"
  "        argv: [swapon, --show=NAME, --noheadings]\n"
  "      register: imc_swaps\n"
  "      changed_when: false\n"
  "      when: IMC_DISKS | default([]) | selectattr('fstype', 'equalto', 'swap') | list"
  " | length > 0\n"
  "    - name: Turn on the swap disks\n"
  "      ansible.builtin.command:\n"
  "        argv: [swapon, \"{{ item.device }}\"]\n"
  "      loop: \"{{ IMC_DISKS | default([]) | selectattr('fstype', 'equalto', 'swap') | list"
  " }}\"\n"
  "      when: item.device not in imc_swaps.stdout_lines | default([])\n";

static void hosts_block(struct imc_buf *out, const struct ctxt_infra *inf)
{
  for (size_t i = 0; i < inf->n; i++) {
    const struct ctxt_node *n = &inf->nodes[i];
    const char *ip = n->private_ip ? n->private_ip : n->public_ip;

    if (!ip)
      continue;
    imc_buf_addf(out, "          %s ", ip);
    if (n->domain && *n->domain)
      imc_buf_addf(out, "%s.%s ", n->hostname, n->domain);
    imc_buf_addf(out, "%s\n", n->hostname);
  }
}

int ctxt_basic_playbook(const struct ctxt_infra *inf, struct imc_buf *out, struct imc_err *err)
{
  imc_buf_adds(out, "---\n- name: imc basic step\n  hosts: all\n  gather_facts: false\n");
  imc_buf_adds(out, basic_tasks);
  imc_buf_adds(out, "    - name: Add every node of the infrastructure to /etc/hosts\n"
                    "      ansible.builtin.blockinfile:\n"
                    "        path: /etc/hosts\n"
                    "        unsafe_writes: true\n"
                    "        marker: ");
  {
    struct imc_buf m;

    imc_buf_init(&m, 1024);
    imc_buf_addf(&m, "# {mark} imc infrastructure %s", inf->id);
    ctxt_yaml_quote(out, imc_buf_cstr(&m));
    imc_buf_free(&m);
  }
  imc_buf_adds(out, "\n        block: |\n");
  hosts_block(out, inf);
  return buf_result(out, "basic playbook", err);
}

/* --- user steps ---------------------------------------------------------------------- */

/* Playbook keys: a recipe whose first item has one of them is a playbook, not a task list. */
static const char *const play_keys[] = {"hosts",
                                        "tasks",
                                        "roles",
                                        "pre_tasks",
                                        "post_tasks",
                                        "import_playbook",
                                        "ansible.builtin.import_playbook"};

static bool is_play_key(const yaml_node_t *key)
{
  if (key->type != YAML_SCALAR_NODE)
    return false;
  for (size_t i = 0; i < sizeof play_keys / sizeof play_keys[0]; i++) {
    if (strlen(play_keys[i]) == key->data.scalar.length &&
        memcmp(play_keys[i], key->data.scalar.value, key->data.scalar.length) == 0)
      return true;
  }
  return false;
}

static bool mapping_has(yaml_document_t *d, yaml_node_t *map, bool (*pred)(const yaml_node_t *))
{
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
    if (pred(yaml_document_get_node(d, p->key)))
      return true;
  }
  return false;
}

/* Loads recipe; *playbook says whether its first item is a play.  The document is loaded in
 * *d (caller deletes it) only when it is a playbook. */
static int recipe_load(const char *configure, const char *recipe, yaml_document_t *d,
                       bool *playbook, struct imc_err *err)
{
  yaml_parser_t p;
  yaml_node_t *root, *first;
  int r = 0;

  *playbook = false;
  if (!yaml_parser_initialize(&p))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  yaml_parser_set_input_string(&p, (const unsigned char *)recipe, strlen(recipe));
  if (!yaml_parser_load(&p, d)) {
    r = imc_fail(err, IMC_E_INVAL, "configure %s: the recipe is not valid YAML (line %zu): %s",
                 configure, p.problem_mark.line + 1, p.problem ? p.problem : "?");
    yaml_parser_delete(&p);
    return r;
  }
  yaml_parser_delete(&p);
  root = yaml_document_get_root_node(d);
  if (root && root->type == YAML_SEQUENCE_NODE &&
      root->data.sequence.items.top > root->data.sequence.items.start) {
    first = yaml_document_get_node(d, root->data.sequence.items.start[0]);
    *playbook = first && first->type == YAML_MAPPING_NODE && mapping_has(d, first, is_play_key);
  } else if (root && root->type != YAML_SEQUENCE_NODE) {
    r = imc_fail(err, IMC_E_INVAL, "configure %s: a recipe must be a list of tasks or plays",
                 configure);
  }
  if (r || !*playbook)
    yaml_document_delete(d);
  return r;
}

static int emit_to_buf(void *data, unsigned char *text, size_t n)
{
  imc_buf_add(data, text, n);
  return imc_buf_err(data) == 0;
}

static bool is_hosts(const yaml_node_t *key)
{
  return key->type == YAML_SCALAR_NODE && key->data.scalar.length == 5 &&
         memcmp(key->data.scalar.value, "hosts", 5) == 0;
}

/* Sets `hosts: group` in every play of d (plays are mappings; import_playbook items too are
 * left as they are). */
static int set_hosts(yaml_document_t *d, const char *group)
{
  yaml_node_t *root = yaml_document_get_root_node(d);
  size_t nitems = (size_t)(root->data.sequence.items.top - root->data.sequence.items.start);

  for (size_t i = 0; i < nitems; i++) {
    int id = yaml_document_get_root_node(d)->data.sequence.items.start[i], done = 0;
    int value = yaml_document_add_scalar(d, NULL, (yaml_char_t *)group, (int)strlen(group),
                                         YAML_DOUBLE_QUOTED_SCALAR_STYLE);
    yaml_node_t *play = yaml_document_get_node(d, id);

    if (!value)
      return IMC_E_NOMEM;
    if (play->type != YAML_MAPPING_NODE)
      continue;
    for (yaml_node_pair_t *p = play->data.mapping.pairs.start; p < play->data.mapping.pairs.top;
         p++) {
      if (is_hosts(yaml_document_get_node(d, p->key))) {
        p->value = value;
        done = 1;
      }
    }
    if (!done) {
      int key =
        yaml_document_add_scalar(d, NULL, (yaml_char_t *)"hosts", 5, YAML_PLAIN_SCALAR_STYLE);

      if (!key || !yaml_document_append_mapping_pair(d, id, key, value))
        return IMC_E_NOMEM;
    }
  }
  return 0;
}

static int playbook_rewrite(yaml_document_t *d, const char *group, struct imc_buf *out,
                            struct imc_err *err)
{
  yaml_emitter_t em;
  int r;

  if ((r = set_hosts(d, group)) != 0) {
    yaml_document_delete(d);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  if (!yaml_emitter_initialize(&em)) {
    yaml_document_delete(d);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  yaml_emitter_set_output(&em, emit_to_buf, out);
  yaml_emitter_set_unicode(&em, 1);
  yaml_emitter_set_width(&em, -1);
  /* yaml_emitter_dump deletes the document, even when it fails. */
  if (!yaml_emitter_open(&em) || !yaml_emitter_dump(&em, d) || !yaml_emitter_close(&em))
    r = imc_fail(err, imc_buf_err(out) ? imc_buf_err(out) : IMC_E_INTERNAL,
                 "cannot write a playbook: %s", em.problem ? em.problem : "?");
  yaml_emitter_delete(&em);
  return r;
}

static char *file_name(const char *configure, const char *system, bool playbook)
{
  struct imc_buf b;

  imc_buf_init(&b, 4096);
  if (playbook)
    imc_buf_addf(&b, "%s_%s.yml", configure, system);
  else
    imc_buf_addf(&b, "%s.yml", configure);
  if (imc_buf_err(&b)) {
    imc_buf_free(&b);
    return NULL;
  }
  return imc_buf_take(&b, NULL);
}

/* Names become file names: no path separator, no leading dot. */
static int check_name(const char *what, const char *name, struct imc_err *err)
{
  if (!*name || name[0] == '.' || strchr(name, '/'))
    return imc_fail(err, IMC_E_INVAL, "%s name %s cannot be a file name", what, name);
  return 0;
}

int ctxt_recipe_file(const struct imc_doc *doc, const struct ctxt_play *play, char **name,
                     struct imc_buf *out, struct imc_err *err)
{
  const struct imc_configure *c = imc_doc_configure(doc, play->configure);
  yaml_document_t d;
  bool playbook;
  char *n;
  int r;

  *name = NULL;
  if (!c || !c->recipe)
    return imc_fail(err, IMC_E_INVAL, "configure %s has no recipe", play->configure);
  if ((r = check_name("configure", play->configure, err)) != 0 ||
      (r = check_name("system", play->system, err)) != 0 ||
      (r = recipe_load(play->configure, c->recipe, &d, &playbook, err)) != 0)
    return r;
  if (!(n = file_name(play->configure, play->system, playbook))) {
    if (playbook)
      yaml_document_delete(&d);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  if (playbook) {
    r = playbook_rewrite(&d, play->system, out, err);
  } else {
    imc_buf_adds(out, c->recipe);
    r = buf_result(out, "recipe", err);
  }
  if (r) {
    imc_free(n);
    return r;
  }
  *name = n;
  return 0;
}

/* The play of a task-list recipe, on the VMs of its system. */
static int task_list_play(struct imc_buf *out, const struct ctxt_play *p, const char *file,
                          struct imc_err *err)
{
  struct imc_buf t;
  int r = 0;

  imc_buf_init(&t, 64 * 1024);
  imc_buf_addf(&t, "configure %s on system %s", p->configure, p->system);
  if (imc_buf_err(&t))
    r = imc_fail(err, IMC_E_TOOBIG, "configure %.64s on system %.64s: names too long",
                 p->configure, p->system);
  imc_buf_adds(out, "- name: ");
  ctxt_yaml_quote(out, imc_buf_cstr(&t));
  imc_buf_adds(out, "\n  hosts: ");
  ctxt_yaml_quote(out, p->system);
  imc_buf_adds(out, "\n  tasks:\n    - ansible.builtin.include_tasks: ");
  ctxt_yaml_quote(out, file);
  imc_buf_addc(out, '\n');
  imc_buf_free(&t);
  return r;
}

int ctxt_step_playbook(const struct imc_doc *doc, const struct ctxt_step *step, size_t from,
                       struct imc_buf *out, struct imc_err *err)
{
  imc_buf_adds(out, "---\n");
  for (size_t i = from; i < step->n; i++) {
    const struct ctxt_play *p = &step->plays[i];
    const struct imc_configure *c = imc_doc_configure(doc, p->configure);
    yaml_document_t d;
    bool playbook;
    char *name;
    int r;

    if (!c || !c->recipe)
      return imc_fail(err, IMC_E_INVAL, "configure %s has no recipe", p->configure);
    if ((r = recipe_load(p->configure, c->recipe, &d, &playbook, err)) != 0)
      return r;
    if (playbook)
      yaml_document_delete(&d);
    if (!(name = file_name(p->configure, p->system, playbook)))
      return imc_fail(err, IMC_E_NOMEM, "out of memory");
    /* Ansible ends the whole run when every VM of a play failed: the last of these markers
     * the output shows tells the driver which plays of the step the other VMs still need. */
    imc_buf_addf(out, "- name: \"" CTXT_PLAY_MARKER "%zu\"\n  hosts: all\n  gather_facts: false\n",
                 i);
    if (playbook) {
      imc_buf_adds(out, "- ansible.builtin.import_playbook: ");
      ctxt_yaml_quote(out, name);
      imc_buf_addc(out, '\n');
    } else {
      r = task_list_play(out, p, name, err);
    }
    imc_free(name);
    if (r)
      return r;
  }
  return buf_result(out, "step playbook", err);
}

/* --- the site playbook ----------------------------------------------------------------- */


static const char stop_task[] =
  "  any_errors_fatal: true\n"
  "  tasks:\n"
  "    - name: Stop when a VM failed the part before (it is retried before the next part)\n"
  "      ansible.builtin.fail:\n"
  "        msg: a VM failed the part before\n"
  "      when: ansible_play_hosts_all | length != ansible_play_hosts | length\n"
  "      run_once: true\n";

int ctxt_site_playbook(const struct ctxt_part *parts, size_t from, size_t to, const char *first_file,
                       bool stop_on_failure, struct imc_buf *out, struct imc_err *err)
{
  imc_buf_adds(out, "---\n");
  for (size_t k = from; k < to; k++) {
    imc_buf_addf(out, "- name: \"" CTXT_MARKER "%zu, step %s\"\n  hosts: all\n"
                      "  gather_facts: false\n",
                 k, parts[k].label);
    /* Ansible drops a failed VM from the later plays of a run on its own; what it cannot do is
     * run the failed part again for it before the others go on.  The marker of the next part
     * ends the run instead, and the driver retries the part alone. */
    if (stop_on_failure && k > from)
      imc_buf_adds(out, stop_task);
    imc_buf_adds(out, "- ansible.builtin.import_playbook: ");
    ctxt_yaml_quote(out, k == from && first_file ? first_file : parts[k].file);
    imc_buf_addc(out, '\n');
  }
  /* Ansible ends a run early when every VM of a play failed; a run that reaches this marker
   * ran every part. */
  imc_buf_addf(out, "- name: \"" CTXT_MARKER "%zu, end\"\n  hosts: all\n  gather_facts: false\n",
               to);
  return buf_result(out, "site playbook", err);
}

/* The number after head in a "PLAY [<head>N<end>" line, or -1. */
static long marker_number(const char *line, size_t n, const char *head, char end)
{
  const size_t hl = strlen(head);
  long k = 0;
  size_t i = hl;

  if (n <= hl || memcmp(line, head, hl) != 0)
    return -1;
  for (; i < n && line[i] >= '0' && line[i] <= '9' && k < 100000; i++)
    k = k * 10 + (line[i] - '0');
  return i > hl && i < n && line[i] == end ? k : -1;
}

long ctxt_part_marker(const char *line, size_t n)
{
  return marker_number(line, n, "PLAY [" CTXT_MARKER, ',');
}

long ctxt_play_marker(const char *line, size_t n)
{
  return marker_number(line, n, "PLAY [" CTXT_PLAY_MARKER, ']');
}

/* --- credentials ---------------------------------------------------------------------- */

static const char creds_play[] =
  "---\n"
  "- name: imc credential changes\n"
  "  hosts: all\n"
  "  gather_facts: false\n"
  "  tasks:\n"
  "    - name: Set the new password\n"
  "      ansible.builtin.user:\n"
  "        name: \"{{ ansible_user }}\"\n"
  "        password: \"{{ IMC_NEW_PASSWORD | password_hash('sha512') }}\"\n"
  "      when: IMC_NEW_PASSWORD is defined\n"
  "      no_log: true\n"
  "    - name: Create the .ssh directory\n"
  "      ansible.builtin.file:\n"
  "        path: \"{{ '/root' if ansible_user == 'root' else '/home/' ~ ansible_user }}/.ssh\"\n"
  "        state: directory\n"
  "        mode: \"0700\"\n"
  "        owner: \"{{ ansible_user }}\"\n"
  "      when: IMC_NEW_PUBLIC_KEY is defined\n"
  "    - name: Authorise the new public key\n"
  "      ansible.builtin.lineinfile:\n"
  "        path: \"{{ '/root' if ansible_user == 'root' else '/home/' ~ ansible_user }}"
  "/.ssh/authorized_keys\"\n"
  "        line: \"{{ IMC_NEW_PUBLIC_KEY }}\"\n"
  "        create: true\n"
  "        mode: \"0600\"\n"
  "        owner: \"{{ ansible_user }}\"\n"
  "      when: IMC_NEW_PUBLIC_KEY is defined\n";

int ctxt_creds_playbook(const struct ctxt_infra *inf, bool *any, struct imc_buf *out,
                        struct imc_err *err)
{
  *any = false;
  for (size_t i = 0; i < inf->n; i++) {
    if (inf->nodes[i].new_password || inf->nodes[i].new_public_key)
      *any = true;
  }
  if (!*any)
    return 0;
  imc_buf_adds(out, creds_play);
  return buf_result(out, "credentials playbook", err);
}
