//! A blocking connection to the server over TCP or a Unix socket.

use super::reply::{self, ReadError, Reply};
use std::io::{self, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::Duration;

pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    pub fn try_clone(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
        })
    }

    pub fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(d),
            Stream::Unix(s) => s.set_read_timeout(d),
        }
    }

    pub fn raw_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }

    pub fn shutdown_write(&self) {
        let _ = match self {
            Stream::Tcp(s) => s.shutdown(std::net::Shutdown::Write),
            Stream::Unix(s) => s.shutdown(std::net::Shutdown::Write),
        };
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub struct Conn {
    pub r: BufReader<Stream>,
    pub w: Stream,
    /// Set once an I/O error or EOF happened (the link is unusable).
    pub err: Option<String>,
}

fn connect_tcp(host: &str, port: i32) -> Result<TcpStream, String> {
    // getaddrinfo refuses negative service numbers and truncates large
    // ones to 16 bits.
    if port < 0 {
        return Err("Servname not supported for ai_socktype".into());
    }
    let port16 = (port & 0xffff) as u16;
    let addrs: Vec<std::net::SocketAddr> = match (host, port16).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => {
            let s = e.to_string();
            let s = s
                .strip_prefix("failed to lookup address information: ")
                .unwrap_or(&s)
                .to_string();
            return Err(s);
        }
    };
    // IPv4 first, like the C client.
    let mut sorted: Vec<_> = addrs.iter().filter(|a| a.is_ipv4()).cloned().collect();
    sorted.extend(addrs.iter().filter(|a| a.is_ipv6()).cloned());
    let mut last = "Can't create socket".to_string();
    for a in sorted {
        match TcpStream::connect(a) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = reply::strerror(&e),
        }
    }
    Err(last)
}

impl Conn {
    pub fn connect(host: &str, port: i32, socket: Option<&str>) -> Result<Conn, String> {
        let stream = match socket {
            Some(path) => Stream::Unix(UnixStream::connect(path).map_err(|e| reply::strerror(&e))?),
            None => Stream::Tcp(connect_tcp(host, port)?),
        };
        Conn::from_stream(stream)
    }

    pub fn from_stream(stream: Stream) -> Result<Conn, String> {
        let w = stream.try_clone().map_err(|e| reply::strerror(&e))?;
        Ok(Conn {
            r: BufReader::with_capacity(16 * 1024, stream),
            w,
            err: None,
        })
    }

    pub fn write_all(&mut self, data: &[u8]) -> Result<(), String> {
        if let Err(e) = self.w.write_all(data) {
            let m = reply::strerror(&e);
            self.err = Some(m.clone());
            return Err(m);
        }
        Ok(())
    }

    pub fn send(&mut self, args: &[Vec<u8>]) -> Result<(), String> {
        let buf = reply::encode_command(args);
        self.write_all(&buf)
    }

    pub fn read(&mut self) -> Result<Reply, ReadError> {
        match reply::read_reply(&mut self.r) {
            Ok(r) => Ok(r),
            Err(e) => {
                self.err = Some(e.msg.clone());
                Err(e)
            }
        }
    }

    /// Send and wait for one reply (redisCommand).
    pub fn command(&mut self, args: &[&[u8]]) -> Result<Reply, ReadError> {
        let v: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        if let Err(m) = self.send(&v) {
            return Err(ReadError { msg: m, io: true });
        }
        self.read()
    }
}
