"""curve_probe.py: one client of a minyi socket, as an attacker or a user
would write it with pyzmq (tests/e2e/29-curve.sh).

  curve_probe.py req ENDPOINT JSON [--key FILE] [--server-key Z85]
      one request; prints the reply, or "no answer" (exit 3) after 2 s
  curve_probe.py push ENDPOINT JSON [--key ...] [--server-key ...]
      push one message (a pipe between daemons); prints "sent" or "blocked"
  curve_probe.py pull ENDPOINT [--key ...] [--server-key ...]
      wait 2 s for a message on a pipe; prints it, or "nothing"
  curve_probe.py hold ENDPOINT FIFO [--key ...] [--server-key ...]
      one REQ connection kept open: each line read from FIFO is sent and
      its reply (or "no answer") printed, so a key can be revoked between
      two requests of one connection
  curve_probe.py keypair
      a fresh key pair nobody registered: "PUBLIC SECRET"
"""
import sys

import zmq

sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__file__),
                                              "../../clients/python"))
from minyi_client import load_key  # noqa: E402


def socket(kind, args):
    s = zmq.Context.instance().socket(kind)
    s.setsockopt(zmq.LINGER, 0)
    if "--key" in args:
        s.curve_publickey, s.curve_secretkey = load_key(args[args.index("--key") + 1])
        s.curve_serverkey = args[args.index("--server-key") + 1].encode()
    return s


def ask(s, text):
    s.send(text.encode())
    if not s.poll(2000):
        return None
    return s.recv().decode()


def main(argv):
    what = argv[1]
    if what == "keypair":
        pub, sec = zmq.curve_keypair()
        print(pub.decode(), sec.decode())
        return 0
    ep = argv[2]
    if what == "req":
        s = socket(zmq.REQ, argv)
        s.connect(ep)
        reply = ask(s, argv[3])
        print(reply if reply is not None else "no answer")
        return 0 if reply is not None else 3
    if what == "push":
        s = socket(zmq.PUSH, argv)
        s.connect(ep)
        ok = s.poll(2000, zmq.POLLOUT)
        if ok:
            s.send(argv[3].encode())
        print("sent" if ok else "blocked")
        return 0
    if what == "pull":
        s = socket(zmq.PULL, argv)
        s.connect(ep)
        print(s.recv().decode()[:200] if s.poll(2000) else "nothing")
        return 0
    if what == "hold":
        s = socket(zmq.REQ, argv)
        s.connect(ep)
        with open(argv[3]) as f:
            for line in f:
                reply = ask(s, line.strip())
                print(reply if reply is not None else "no answer", flush=True)
                if reply is None:
                    return 3
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
