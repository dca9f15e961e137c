"""Pulls one image from a real runtime the way the kubelet's CRI client or cri-dockerd does, and
prints the outcome: `OK`, or `ERR <gRPC code>` and then the runtime's message, as it is.

  runtime_client.py cri SOCKET IMAGE        runtime.v1.ImageService/PullImage (gRPC, as the kubelet)
  runtime_client.py docker SOCKET IMAGE     POST /images/create (the Engine API, as cri-dockerd)
  runtime_client.py cri-rm|docker-rm SOCKET IMAGE   removes the image (RemoveImage / DELETE)

The credential, if any, comes from ORACLE_USER and ORACLE_PASSWORD (never the command line).
The protobuf of the two CRI messages is written by hand: PullImageRequest{1: ImageSpec{1: image},
2: AuthConfig{1: username, 2: password}} and RemoveImageRequest{1: ImageSpec{1: image}}.
"""
import base64, http.client, json, os, socket, sys
from urllib.parse import quote, urlencode

TIMEOUT = 120


def field(number, payload):
    """One length-delimited protobuf field."""
    payload = payload.encode() if isinstance(payload, str) else payload
    out, size = bytes([(number << 3) | 2]), len(payload)
    while size > 0x7F:
        out += bytes([(size & 0x7F) | 0x80])
        size >>= 7
    return out + bytes([size]) + payload


def cri_call(sock, method, request):
    import grpc

    channel = grpc.insecure_channel("unix://" + sock)
    call = channel.unary_unary("/runtime.v1.ImageService/" + method)
    try:
        call(request, timeout=TIMEOUT)
        print("OK")
    except grpc.RpcError as error:
        # grpc-go's codes.Code.String(): NOT_FOUND -> NotFound.
        code = "".join(part.capitalize() for part in error.code().name.split("_"))
        print("ERR " + code)
        sys.stdout.write(error.details() or "")


def cri(sock, image, user, password):
    request = field(1, field(1, image))
    if user or password:
        request += field(2, field(1, user) + field(2, password))
    cri_call(sock, "PullImage", request)


def cri_rm(sock, image, _user, _password):
    cri_call(sock, "RemoveImage", field(1, field(1, image)))


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=TIMEOUT)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(self.unix_path)


def docker(sock, image, user, password):
    # The Docker client's ImagePull: fromImage is the name, tag the tag; X-Registry-Auth the
    # base64url JSON of the AuthConfig (cri-dockerd fills it from the kubelet's credential).
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        name, tag = image, "latest"
    host = name.split("/")[0]
    auth = {"username": user, "password": password, "serveraddress": host} if user or password else {}
    headers = {"X-Registry-Auth": base64.urlsafe_b64encode(json.dumps(auth).encode()).decode()}
    connection = UnixConnection(sock)
    connection.request("POST", "/v1.41/images/create?" + urlencode({"fromImage": name, "tag": tag}), headers=headers)
    response = connection.getresponse()
    body = response.read().decode()
    if response.status != 200:
        # The client's checkResponseErr: "Error response from daemon: " + the JSON message.
        try:
            message = json.loads(body)["message"]
        except (ValueError, KeyError, TypeError):
            message = body
        print("ERR Unknown")
        sys.stdout.write("Error response from daemon: " + message.strip())
        return
    for line in body.splitlines():
        if not line.strip():
            continue
        event = json.loads(line)
        if event.get("errorDetail") or event.get("error"):
            # jsonmessage's JSONError: the in-stream error, without a prefix.
            print("ERR Unknown")
            sys.stdout.write((event.get("errorDetail") or {}).get("message") or event["error"])
            return
    print("OK")


def docker_rm(sock, image, _user, _password):
    connection = UnixConnection(sock)
    connection.request("DELETE", "/v1.41/images/" + quote(image, safe="/:") + "?force=1")
    response = connection.getresponse()
    response.read()
    print("OK" if response.status == 200 else "ERR " + str(response.status))


if __name__ == "__main__":
    kind, sock, image = sys.argv[1:4]
    user, password = os.environ.get("ORACLE_USER", ""), os.environ.get("ORACLE_PASSWORD", "")
    {"cri": cri, "cri-rm": cri_rm, "docker": docker, "docker-rm": docker_rm}[kind](sock, image, user, password)
