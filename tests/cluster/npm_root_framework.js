"use strict";
// npm_root_framework.js: a tiny framework written against npm's
// mesos-framework 0.5.3, unmodified (a Mesos client as users have them):
// one command task of user "root", as most Mesos clients send. Prints
// "UPDATE <state> <message>" per status update; exits 0 after
// TASK_FINISHED, 3 on another terminal state, 4 after 60 s without one.
// Usage: node npm_root_framework.js MASTER_PORT (mesos-framework from
// NODE_PATH).
var mf = require("mesos-framework");
var Mesos = mf.Mesos.getMesos();
var port = parseInt(process.argv[2], 10);
var scheduler = new mf.Scheduler({
    "masterUrl": "127.0.0.1",
    "port": port,
    "frameworkName": "npm-mesos-framework-root",
    "logging": {"level": "info"},
    "tasks": {
        "rootTask": {
            "instances": 1,
            "commandInfo": new Mesos.CommandInfo(null, null, true,
                "id -u; cat /proc/self/uid_map", null, "root"),
            "resources": {"cpus": 0.1, "mem": 32, "disk": 0, "ports": 0}
        }
    },
    "handlers": {
        "UPDATE": function (update) {
            var s = update.status;
            console.log("UPDATE " + s.state + " " + (s.message || ""));
            if (s.uuid) {
                this.acknowledge(update);
            }
            if (s.state === "TASK_FINISHED") {
                this.teardown();
                setTimeout(function () { process.exit(0); }, 500);
            } else if (["TASK_FAILED", "TASK_ERROR", "TASK_LOST", "TASK_DROPPED",
                        "TASK_KILLED"].indexOf(s.state) >= 0) {
                setTimeout(function () { process.exit(3); }, 200);
            }
        }
    }
});
scheduler.on("error", function (e) { console.log("ERROR " + (e.message || JSON.stringify(e))); });
scheduler.on("ready", function () { scheduler.subscribe(); });
setTimeout(function () { console.log("TIMEOUT"); process.exit(4); }, 60000);
