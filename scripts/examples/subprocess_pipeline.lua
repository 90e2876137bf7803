-- Port of the seed's pipeline: p1 = Popen(["dmesg"], stdout=PIPE);
-- p2 = Popen(["grep", "hda"], stdin=p1.stdout, stdout=PIPE);
-- output = p2.communicate()[0]. (printf stands in for dmesg.) Passing
-- p1.stdout to p2 closes it here, so p1 would get SIGPIPE if p2 exited.
local subprocess = require "tide.subprocess"

local p1 = subprocess.Popen({"printf", "sda1 ok\\nhda1 read error\\nsdb1 ok\\nhda2 ok\\n"}, {stdout = "pipe"})
local p2 = subprocess.Popen({"grep", "hda"}, {stdin = p1.stdout, stdout = "pipe"})
local output = p2:communicate()
io.write(output)
print("exit codes:", p1:wait(), p2:wait())

-- Popen with stdin, stdout and stderr piped and shell=true, as in the seed:
-- communicate feeds the input and collects both outputs at once.
local process = subprocess.Popen("tr a-z A-Z; echo done >&2", {
  stdin = "pipe", stdout = "pipe", stderr = "pipe", shell = true})
local out, err = process:communicate("some data\n")
print(out, err, process.returncode)
